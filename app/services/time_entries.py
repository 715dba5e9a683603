"""Tracking: who may write which entry, what it may point at, its rate snapshot, one running
entry per user, no overlaps where the workspace forbids them, and no change to closed time.

Every write locks the users whose time it touches first and only then checks closed time
(`closed_time`) and the running and overlap rules, so two concurrent requests cannot both
pass them, and a decision on a period cannot slip between the check and the write.
"""

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Membership, TimeEntry
from app.db.types import utcnow
from app.enums import EntrySource
from app.errors import Conflict, DomainError, NotFound, ReferenceMissing
from app.repositories.entry_references import EntryReferenceRepository
from app.repositories.time_entries import (
    RUNNING_CONFLICT,
    RunningEntryRepository,
    TimeEntryRepository,
    WrittenEntry,
)
from app.services import closed_time, entry_rules, policies, progress
from app.services.caller import Caller
from app.services.closed_time import ClosedTime
from app.services.entry_rules import INVALID_REFERENCE, ProjectFacts, TaskFacts

# What a write may change: the fields of the input and the rate snapshot they decide.
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
    """What happened to one entry of a bulk change: `error` None means it was done."""

    id: uuid.UUID
    error: DomainError | None = None
    entry: WrittenEntry | None = None


class TimeEntryService:
    def __init__(self, session: AsyncSession, caller: Caller) -> None:
        self.session = session
        self.caller = caller
        self.workspace = caller.current_workspace()
        self.entries = TimeEntryRepository(
            session, self.workspace.id, viewer_id=policies.entry_viewer(caller)
        )
        self.running = RunningEntryRepository(session)
        self.references = EntryReferenceRepository(session, self.workspace.id)
        self.is_admin = policies.is_admin(caller)
        # Lookups are remembered, so a bulk change over many entries asks each question once.
        self._memberships: dict[uuid.UUID, Membership | None] = {
            caller.user_id: caller.current_membership()
        }
        self._projects: dict[tuple[uuid.UUID, uuid.UUID], ProjectFacts | None] = {}
        self._locked: set[uuid.UUID] = set()
        self._closed_time: ClosedTime | None = None

    # Single entries

    async def create(self, values: dict[str, Any]) -> WrittenEntry:
        running = values.get("end_at") is None
        source = EntrySource.TIMER if running else policies.source_of_writes(self.caller)
        return await self._write(None, values, source=source)

    async def update(self, entry: TimeEntry, changes: dict[str, Any]) -> WrittenEntry:
        return await self._write(entry, changes)

    async def delete(self, entry: TimeEntry) -> None:
        await self._check_closed(entry)
        await self.entries.soft_delete(entry)

    async def restore(self, entry: TimeEntry) -> WrittenEntry:
        if entry.deleted_at is None:
            return await self._as_read(entry)
        # A former member's entry may come back finished; it never runs here again.
        if entry.end_at is None and await self._membership(entry.user_id) is None:
            raise Conflict("The entry's user is no longer a member; it cannot run here again.")
        await self._check_closed(entry)
        await self._claim(entry.user_id, entry.start_at, entry.end_at, entry_id=entry.id)
        restored = await self.entries.restore(entry)
        await self._count_progress(restored.project_id, progress.NOTHING, _share(restored))
        return await self._as_read(restored)

    # The timer

    async def start_timer(self, values: dict[str, Any]) -> WrittenEntry:
        """Stop the caller's running entry, wherever it runs, and start a new one here."""
        await self._lock({self.caller.user_id})
        # Read after the lock: the entry being stopped may have started just before.
        values = {**values, "start_at": utcnow(), "end_at": None}
        return await self._write(None, values, source=EntrySource.TIMER, stop_running=True)

    async def stop_timer(self) -> WrittenEntry:
        await self._lock({self.caller.user_id})
        entry = await self.running.get_for_user(self.caller.user_id)
        if entry is None or entry.workspace_id != self.workspace.id:
            raise NotFound("No time entry is running in this workspace.")
        await self._check_closed(entry)
        stopped = await self.running.update(entry, {"end_at": utcnow()})
        await self._count_progress(stopped.project_id, progress.NOTHING, _share(stopped))
        return await self._as_read(stopped)

    # Bulk: each entry succeeds or fails alone, inside a savepoint of its own.

    async def bulk_update(
        self, ids: Sequence[uuid.UUID], changes: dict[str, Any]
    ) -> list[BulkOutcome]:
        ids = list(dict.fromkeys(ids))
        found = await self._locked_entries(ids, changes.get("user_id"), changes.get("start_at"))
        failed: dict[uuid.UUID, DomainError] = {}
        for entry_id in ids:
            entry = found.get(entry_id)
            if entry is None:
                failed[entry_id] = self.entries.not_found()
                continue
            try:
                async with self.session.begin_nested():
                    await self._write(entry, dict(changes))
            except DomainError as error:
                failed[entry_id] = error
        written = await self.entries.get_many([i for i in ids if i not in failed])
        reads = {entry_id: await self._as_read(entry) for entry_id, entry in written.items()}
        return [BulkOutcome(i, failed.get(i), reads.get(i)) for i in ids]

    async def bulk_delete(self, ids: Sequence[uuid.UUID]) -> list[BulkOutcome]:
        ids = list(dict.fromkeys(ids))
        found = await self._locked_entries(ids)
        outcomes = []
        for entry_id in ids:
            entry = found.get(entry_id)
            if entry is None:
                outcomes.append(BulkOutcome(entry_id, self.entries.not_found()))
                continue
            try:
                async with self.session.begin_nested():
                    await self._check_closed(entry)
                    await self.entries.soft_delete(entry)
            except DomainError as error:
                outcomes.append(BulkOutcome(entry_id, error))
            else:
                outcomes.append(BulkOutcome(entry_id))
        return outcomes

    # The rules

    async def _write(
        self,
        entry: TimeEntry | None,
        changes: dict[str, Any],
        *,
        source: EntrySource | None = None,
        stop_running: bool = False,
    ) -> WrittenEntry:
        """Check `changes` against `entry` (None: a new entry), then write them.

        Everything that can refuse runs before anything is written, so a refused change
        leaves nothing behind, also inside a bulk request.
        """
        changes = dict(changes)
        tag_ids = changes.pop("tag_ids", None)
        if entry is None:
            before: dict[str, Any] = {"user_id": self.caller.user_id, "project_id": None}
        else:
            before = {name: getattr(entry, name) for name in _FIELDS}
        after = {**before, **changes}

        def changed(name: str) -> bool:
            return entry is None or after.get(name) != before.get(name)

        user_id = after["user_id"]
        live_tags = await self._prefetch(changes, tag_ids, user_id) if tag_ids else None
        if changed("user_id"):
            policies.may_track_for(self.caller, user_id)
            if await self._membership(user_id) is None:
                raise ReferenceMissing(
                    "The user is not a member of this workspace.",
                    field="user_id",
                    kind=INVALID_REFERENCE,
                )
        if changes.get("task_id") is not None:
            task = await self.references.task(changes["task_id"], user_id)
            after["project_id"] = entry_rules.task_project(
                TaskFacts(task[0], task[1], visible=bool(task[2])) if task else None,
                changes.get("project_id"),
                given="project_id" in changes,
                sees_all=self.is_admin,
            )
        elif changed("project_id") and "task_id" not in changes:
            # A new project alone drops the old project's task.
            after["task_id"] = None
        project = None
        if after["project_id"] is not None and changed("project_id"):
            project = entry_rules.assignable_project(
                await self._project(after["project_id"], user_id), sees_all=self.is_admin
            )
        if entry is None and "billable" not in after:
            after["billable"] = project is not None and project.is_billable
        if any(changed(name) for name in _SETS_RATE):
            after["hourly_rate_cents"] = await self._rate(after, project)
        if tag_ids is not None:
            if live_tags is None:
                live_tags = await self.references.live_tag_ids(set(tag_ids))
            tag_ids = entry_rules.live_tags(tag_ids, live_tags)
            if entry is not None and set(tag_ids) == {tag.id for tag in entry.tags}:
                tag_ids = None
        entry_rules.check_interval(
            after["start_at"],
            after["end_at"],
            now=utcnow(),
            end_given="end_at" in changes,
            start_changed=changed("start_at"),
        )
        # Closed time, checked on both sides of the change: the entry may neither leave it
        # nor enter it. The user's lock is taken here, before anything is written.
        closed = await self._closed(
            {user_id, *([entry.user_id] if entry else [])},
            {after["start_at"], *([entry.start_at] if entry else [])},
        )
        if entry is not None:
            closed.check(entry.user_id, entry.start_at)
        closed.check(user_id, after["start_at"])
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
        before_share = progress.NOTHING if entry is None else _share(entry)
        written = await self.entries.write(entry, values, tag_ids)
        await self._count_progress(
            after["project_id"],
            before_share
            if entry is not None and before["project_id"] == after["project_id"]
            else progress.NOTHING,
            _share(written),
            project,
        )
        # After the flush the object holds every column; its tags are the ones just written
        # or, unchanged, the ones it had: the response needs no read-back.
        if tag_ids is None:
            tag_ids = [] if entry is None else [tag.id for tag in entry.tags]
        return WrittenEntry(written, tag_ids, closed.reason(user_id, after["start_at"]))

    # Closed time

    async def _closed(
        self, user_ids: Collection[uuid.UUID], starts: Collection[datetime]
    ) -> ClosedTime:
        """The closed time of these users around these starts, read once they are locked."""
        await self._lock(user_ids)
        known = self._closed_time
        if known is None or not known.covers(user_ids, starts):
            known = self._closed_time = await closed_time.load(
                self.session, self.workspace.id, self.caller.user_id, user_ids, starts
            )
        return known

    async def _locked_entries(
        self,
        ids: Sequence[uuid.UUID],
        new_user_id: uuid.UUID | None = None,
        new_start_at: datetime | None = None,
    ) -> dict[uuid.UUID, TimeEntry]:
        """The entries of a bulk request, read again once every user they touch is locked
        (all at once and in order, so two bulk requests cannot deadlock each other), with
        those users' closed time read in one query. Read after the lock, they are as the
        last write of them left them, so concurrent bulk requests follow each other."""
        found = await self.entries.get_many(ids)
        if not found:
            return found
        users = {entry.user_id for entry in found.values()}
        users |= {new_user_id} if new_user_id else set()
        starts = {entry.start_at for entry in found.values()}
        starts |= {new_start_at} if new_start_at else set()
        await self._closed(users, starts)
        fresh = await self.entries.get_many(ids)
        if all(entry.user_id in users and entry.start_at in starts for entry in fresh.values()):
            return fresh
        # An entry moved to someone else, or in time, meanwhile: lock and read for that too.
        return await self._locked_entries(ids, new_user_id, new_start_at)

    async def _check_closed(self, entry: TimeEntry) -> None:
        closed = await self._closed({entry.user_id}, {entry.start_at})
        closed.check(entry.user_id, entry.start_at)

    async def _as_read(self, entry: TimeEntry) -> WrittenEntry:
        """An entry with its tags loaded, as reads render it, with why it is closed."""
        closed = await self._closed({entry.user_id}, {entry.start_at})
        reason = closed.reason(entry.user_id, entry.start_at)
        return WrittenEntry(entry, [tag.id for tag in entry.tags], reason)

    async def _count_progress(
        self,
        project_id: uuid.UUID | None,
        before: progress.Share,
        after: progress.Share,
        project: ProjectFacts | None = None,
    ) -> None:
        """Record the thresholds of the project's estimate or budget that this write moved
        it across. `before` and `after` are the written entry's share of the project before
        and after the write; one statement at most, and none when the share is unchanged or
        the project (loaded for the write anyway) has no target."""
        if project_id is None or before == after:
            return
        known = project if project is not None and project.id == project_id else None
        if known is not None and not progress.Targets(known.estimate_seconds, known.budget_cents):
            return
        row = await self.references.progress(project_id)
        if row is None:
            return
        targets = progress.Targets(row[0], row[1])
        now = progress.Share(int(row[2]), int(row[3]))
        progress.record_crossings(
            self.session, self.workspace.id, project_id, targets, now - after + before, now
        )

    async def _rate(self, after: dict[str, Any], project: ProjectFacts | None) -> int | None:
        if not after["billable"]:
            return None
        if project is None and after["project_id"] is not None:
            project = await self._project(after["project_id"], after["user_id"])
        # An entry may outlive its user's membership; it then falls back to the default.
        membership = await self._membership(after["user_id"])
        return entry_rules.hourly_rate(
            billable=True,
            project=project,
            member_rate_cents=membership.hourly_rate_cents if membership else None,
            default_rate_cents=self.workspace.default_hourly_rate_cents,
        )

    async def _membership(self, user_id: uuid.UUID) -> Membership | None:
        if user_id not in self._memberships:
            self._memberships[user_id] = await self.references.membership(user_id)
        return self._memberships[user_id]

    async def _prefetch(
        self, changes: dict[str, Any], tag_ids: list[uuid.UUID], user_id: uuid.UUID
    ) -> set[uuid.UUID] | None:
        """The live tags among `tag_ids`, read with the new project's facts in one round
        trip when the change names a project too; None when there is no project to read."""
        project_id = changes.get("project_id")
        if project_id is None or (project_id, user_id) in self._projects:
            return None
        row, live = await self.references.project_and_tags(project_id, user_id, set(tag_ids))
        self._projects[(project_id, user_id)] = _project_facts(row)
        return live

    async def _project(self, project_id: uuid.UUID, user_id: uuid.UUID) -> ProjectFacts | None:
        key = (project_id, user_id)
        if key not in self._projects:
            self._projects[key] = _project_facts(await self.references.project(project_id, user_id))
        return self._projects[key]

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
        if end_at is not None and not self.workspace.prevent_overlaps:
            return  # finished time where overlaps are allowed: no rule to hold
        await self._lock({user_id} | ({previous_user_id} if previous_user_id else set()))
        if end_at is None:
            running = await self.running.get_for_user(user_id)
            if running is not None and running.id != entry_id:
                if not stop_running:
                    raise Conflict(RUNNING_CONFLICT)
                await self.running.update(running, {"end_at": start_at})
                await self._count_progress(running.project_id, progress.NOTHING, _share(running))
        if self.workspace.prevent_overlaps:
            other = await self.entries.find_overlap(user_id, start_at, end_at, exclude_id=entry_id)
            if other is not None:
                raise Conflict(f"The entry would overlap time entry {other}.")

    async def _lock(self, user_ids: Collection[uuid.UUID]) -> None:
        wanted = set(user_ids) - self._locked
        if wanted:
            await self.entries.lock_users(wanted)
            self._locked |= wanted


def _project_facts(row: Any) -> ProjectFacts | None:
    """What the rules need of a project row as `EntryReferenceRepository.project` reads it."""
    if row is None:
        return None
    return ProjectFacts(
        id=row[0],
        is_billable=bool(row[1]),
        hourly_rate_cents=row[2],
        member_rate_cents=row[3],
        visible=bool(row[4]),
        archived=bool(row[5]),
        deleted=bool(row[6]),
        estimate_seconds=row[7],
        budget_cents=row[8],
    )


def _share(entry: TimeEntry) -> progress.Share:
    """What the entry, as it stands, gives its project's progress."""
    if entry.deleted_at is not None:
        return progress.NOTHING
    return progress.share_of(entry.start_at, entry.end_at, entry.billable, entry.hourly_rate_cents)
