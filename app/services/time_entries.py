"""The tracking rules: who may write which entry, what it may point at, its rate snapshot,
one running entry per user, and no overlaps where the workspace forbids them.

Every write that changes whose time or which time locks those users first and only then
checks the running and overlap rules, so two concurrent requests cannot both pass them.
"""

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.db.models import Membership, TimeEntry, Workspace
from app.db.types import utcnow
from app.enums import EntrySource
from app.errors import AppError, Conflict, Forbidden, NotFound, ValidationFailed
from app.repositories.entry_references import EntryReferences, ProjectForUser
from app.repositories.time_entries import (
    RUNNING_CONFLICT,
    RunningEntryRepository,
    TimeEntryRepository,
)
from app.schemas.time_entries import TimeEntryCreate, TimeEntryUpdate, TimerStart

# What a write may change: the fields of a request and the rate snapshot they decide.
_FIELDS = (
    "user_id",
    "project_id",
    "task_id",
    "description",
    "start_at",
    "end_at",
    "billable",
    "hourly_rate_cents",
)
_CLAIMS_TIME = frozenset({"user_id", "start_at", "end_at"})
_SETS_RATE = frozenset({"user_id", "project_id", "billable"})


@dataclass(frozen=True)
class BulkOutcome:
    id: uuid.UUID
    status: int
    detail: str | None = None
    entry: TimeEntry | None = None


def _invalid(field: str, detail: str) -> ValidationFailed:
    return ValidationFailed(
        detail, errors=[{"loc": ["body", field], "msg": detail, "type": "value_error"}]
    )


class TimeEntryService:
    def __init__(
        self,
        entries: TimeEntryRepository,
        *,
        workspace: Workspace,
        membership: Membership,
        is_admin: bool,
        written_source: EntrySource = EntrySource.MANUAL,
    ) -> None:
        self.entries = entries
        self.running = RunningEntryRepository(entries.session)
        self.references = EntryReferences(entries.session, workspace)
        self.references.remember(membership)
        self.workspace = workspace
        self.actor_id = membership.user_id
        self.is_admin = is_admin
        # What a finished entry written through the API records as its source.
        self.written_source = written_source
        self._locked: set[uuid.UUID] = set()

    # Single entries

    async def create(self, data: TimeEntryCreate) -> TimeEntry:
        source = EntrySource.TIMER if data.end_at is None else self.written_source
        return await self._fresh(await self._write(None, data.model_dump(), source=source))

    async def update(self, entry: TimeEntry, data: TimeEntryUpdate) -> TimeEntry:
        return await self._fresh(await self._write(entry, data.model_dump()))

    async def restore(self, entry: TimeEntry) -> TimeEntry:
        if entry.deleted_at is None:
            return entry
        await self._claim(entry.user_id, entry.start_at, entry.end_at, entry_id=entry.id)
        return await self.entries.restore(entry)

    # The timer

    async def start_timer(self, data: TimerStart) -> TimeEntry:
        """Stop the caller's running entry, wherever it runs, and start a new one here."""
        await self._lock({self.actor_id})
        # Read after the lock: the entry being stopped may have started just before.
        values = {**data.model_dump(), "start_at": utcnow(), "end_at": None}
        entry = await self._write(None, values, source=EntrySource.TIMER, stop_running=True)
        return await self._fresh(entry)

    async def stop_timer(self) -> TimeEntry:
        await self._lock({self.actor_id})
        entry = await self.running.get_for_user(self.actor_id)
        if entry is None or entry.workspace_id != self.workspace.id:
            raise NotFound("No time entry is running in this workspace.")
        return await self.running.update(entry, {"end_at": utcnow()})

    # Bulk

    async def bulk_update(
        self, ids: Sequence[uuid.UUID], data: TimeEntryUpdate
    ) -> list[BulkOutcome]:
        ids = list(dict.fromkeys(ids))
        found = await self.entries.get_many(ids)
        changes = data.model_dump()
        if changes.keys() & _CLAIMS_TIME:
            # All at once and in order, so two bulk requests cannot deadlock each other.
            users = {entry.user_id for entry in found.values()}
            await self._lock(users | ({changes["user_id"]} if "user_id" in changes else set()))
        outcomes: dict[uuid.UUID, BulkOutcome] = {}
        for entry_id in ids:
            entry = found.get(entry_id)
            if entry is None:
                outcomes[entry_id] = BulkOutcome(entry_id, 404, self.entries.not_found_detail)
                continue
            try:
                await self._write(entry, dict(changes))
            except AppError as error:
                outcomes[entry_id] = BulkOutcome(entry_id, error.status, error.detail)
        written = await self.entries.get_many([i for i in ids if i not in outcomes])
        return [outcomes.get(i) or BulkOutcome(i, 200, entry=written[i]) for i in ids]

    async def bulk_delete(self, ids: Sequence[uuid.UUID]) -> list[BulkOutcome]:
        ids = list(dict.fromkeys(ids))
        found = await self.entries.get_many(ids)
        outcomes = []
        for entry_id in ids:
            entry = found.get(entry_id)
            if entry is None:
                outcomes.append(BulkOutcome(entry_id, 404, self.entries.not_found_detail))
                continue
            try:
                await self.entries.soft_delete(entry)
            except AppError as error:
                outcomes.append(BulkOutcome(entry_id, error.status, error.detail))
            else:
                outcomes.append(BulkOutcome(entry_id, 204))
        return outcomes

    # The rules

    async def _write(
        self,
        entry: TimeEntry | None,
        changes: dict[str, Any],
        *,
        source: EntrySource | None = None,
        stop_running: bool = False,
    ) -> TimeEntry:
        """Check `changes` against `entry` (None: a new entry), then write them.

        Everything that can refuse runs before anything is written, so a refused change
        leaves nothing behind, also inside a bulk request.
        """
        tag_ids = changes.pop("tag_ids", None)
        if entry is None:
            before: dict[str, Any] = {"user_id": self.actor_id, "project_id": None}
        else:
            before = {name: getattr(entry, name) for name in _FIELDS}
        after = {**before, **changes}

        def changed(name: str) -> bool:
            return entry is None or after.get(name) != before.get(name)

        user_id = after["user_id"]
        if changed("user_id"):
            if user_id != self.actor_id and not self.is_admin:
                raise Forbidden("Members can only track their own time.")
            await self.references.member(user_id)
        await self._settle_task(after, changes, changed("project_id"))
        project = None
        if after["project_id"] is not None and changed("project_id"):
            project = await self.references.assignable_project(
                after["project_id"], user_id, sees_all=self.is_admin
            )
        if entry is None and "billable" not in after:
            after["billable"] = project is not None and project.project.is_billable
        if any(changed(name) for name in _SETS_RATE):
            after["hourly_rate_cents"] = await self._rate(after, project)
        if tag_ids is not None:
            tag_ids = await self.references.tags(tag_ids)
            if entry is not None and set(tag_ids) == {tag.id for tag in entry.tags}:
                tag_ids = None
        self._check_times(after, changes, changed("start_at"))
        if any(changed(name) for name in _CLAIMS_TIME):
            await self._claim(
                user_id,
                after["start_at"],
                after["end_at"],
                entry_id=entry.id if entry else None,
                previous_user_id=entry.user_id if entry else None,
                stop_running=stop_running,
            )
        values = {name: value for name, value in after.items() if changed(name)}
        if source is not None:
            values["source"] = source
        return await self.entries.write(entry, values, tag_ids)

    async def _settle_task(
        self, after: dict[str, Any], changes: dict[str, Any], project_changed: bool
    ) -> None:
        """A task alone names its project; a new project alone drops the old task."""
        if changes.get("task_id") is not None:
            task = await self.references.task(changes["task_id"])
            if "project_id" not in changes:
                after["project_id"] = task.project_id
            elif changes["project_id"] is None:
                raise _invalid("task_id", "A task needs its project; project_id is null.")
            elif changes["project_id"] != task.project_id:
                raise _invalid("task_id", "The task belongs to another project.")
        elif project_changed and "task_id" not in changes:
            after["task_id"] = None

    async def _rate(self, after: dict[str, Any], project: ProjectForUser | None) -> int | None:
        if project is None and after["project_id"] is not None and after["billable"]:
            project = await self.references.project(after["project_id"], after["user_id"])
        return await self.references.rate(
            billable=after["billable"], user_id=after["user_id"], project=project
        )

    @staticmethod
    def _check_times(after: dict[str, Any], changes: dict[str, Any], start_changed: bool) -> None:
        start_at, end_at = after["start_at"], after["end_at"]
        if end_at is not None and end_at <= start_at:
            field = "end_at" if "end_at" in changes else "start_at"
            raise _invalid(field, "end_at must be after start_at.")
        if end_at is None and start_changed and start_at > utcnow():
            raise _invalid("start_at", "A running entry cannot start in the future.")

    async def _claim(
        self,
        user_id: uuid.UUID,
        start_at: datetime,
        end_at: datetime | None,
        *,
        entry_id: uuid.UUID | None,
        previous_user_id: uuid.UUID | None = None,
        stop_running: bool = False,
    ) -> None:
        """Make [start_at, end_at) the user's: one running entry, and no overlap if forbidden."""
        await self._lock({user_id} | ({previous_user_id} if previous_user_id else set()))
        if end_at is None:
            running = await self.running.get_for_user(user_id)
            if running is not None and running.id != entry_id:
                if not stop_running:
                    raise Conflict(RUNNING_CONFLICT)
                await self.running.update(running, {"end_at": start_at})
        if self.workspace.prevent_overlaps:
            other = await self.entries.find_overlap(user_id, start_at, end_at, exclude_id=entry_id)
            if other is not None:
                raise Conflict(f"The entry would overlap time entry {other}.")

    async def _lock(self, user_ids: Collection[uuid.UUID]) -> None:
        wanted = set(user_ids) - self._locked
        if wanted:
            await self.entries.lock_users(wanted)
            self._locked |= wanted

    async def _fresh(self, entry: TimeEntry) -> TimeEntry:
        """The entry as stored, tags included, for the response."""
        return (await self.entries.get_many([entry.id], include_deleted=True))[entry.id]
