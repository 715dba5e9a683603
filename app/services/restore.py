"""The restore of a full export into a new workspace, on this instance or another.

It reads an `Archive` whose manifest and checksums `open_archive` found right, and writes
the workspace with Core inserts in the caller's transaction, a batch at a time: all of it,
or, with any bad record, nothing (`ArchiveError` names each one by file and line). Ids are
kept where free and replaced where taken; people are matched by email; the event history
keeps its numbers and the restore adds one `workspace.restored` after it.
"""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import events
from app.db.models import (
    EventCounter,
    User,
    WorkspaceRestore,
    time_entry_tags,
    webhook_subscriptions,
)
from app.db.models.webhook import subscription_patterns
from app.db.types import utcnow
from app.enums import InvitationStatus, Role
from app.errors import Conflict, FieldProblem, InvalidInput
from app.repositories.archive import ArchiveRepository
from app.repositories.standing import UserRow
from app.repositories.users import UserRepository
from app.services.archive import (
    BATCH_SIZE,
    TABLES,
    Archive,
    Kind,
    RecordError,
    parse_record,
    problem,
    refuse,
)
from app.services.webhooks import new_secret

# A restore stops reading after this many bad records; the ones found are reported.
MAX_REPORTED_ERRORS = 100
RESTORED_WEBHOOK = "Restored from a full export: rotate its secret, then enable it."


@dataclass(frozen=True)
class RestoreOptions:
    """`owner`: who owns the new workspace. `enrol_accounts`: whether people who have an
    account here become members directly (the command line, run by the operator) or are
    invited (an upload: nobody is made a member of someone else's workspace unasked)."""

    owner: User | UserRow
    enrol_accounts: bool
    name: str | None = None


@dataclass
class RestoreReport:
    workspace_id: uuid.UUID
    source_workspace_id: uuid.UUID
    # False: this archive was restored here before, into `workspace_id`; nothing was written.
    created: bool
    counts: dict[str, int] = field(default_factory=dict)
    # Accounts made for people with no account here: inactive, like the importer's.
    placeholders: int = 0
    # People with an account here, invited instead of made members (uploads).
    invited: int = 0
    # Records whose id was taken on this instance and that got a new one.
    remapped: int = 0


class _Restore:
    def __init__(self, session: AsyncSession, archive: Archive, options: RestoreOptions) -> None:
        self.session = session
        self.archive = archive
        self.options = options
        self.rows = ArchiveRepository(session)
        self.problems: list[FieldProblem] = []
        self.workspace_id = uuid.uuid4()
        # Old id to new id, per kind: every row of the small kinds (what references are
        # checked against); of entries and events only those that got a new id.
        self.ids: dict[Kind, dict[uuid.UUID, uuid.UUID]] = {kind: {} for kind in Kind}
        self.counts = {kind.value: 0 for kind in Kind}
        self.report: RestoreReport
        # People with an account here other than the new owner, and the memberships of
        # those an upload invites instead of enrolling.
        self.accounts: set[uuid.UUID] = set()
        self.invite: list[tuple[uuid.UUID, dict[str, Any]]] = []

    def fail(self, kind: Kind, line: int, message: str) -> None:
        self.problems.append(problem(kind.file, line, message))
        if len(self.problems) >= MAX_REPORTED_ERRORS:
            raise refuse(self.problems)

    def records(self, kind: Kind) -> Iterator[list[tuple[int, dict[str, Any]]]]:
        """The kind's records that parse, a batch at a time, with their lines."""
        batch: list[tuple[int, dict[str, Any]]] = []
        for number, line in self.archive.lines(kind):
            try:
                batch.append((number, parse_record(kind, line)))
            except RecordError as exc:
                self.fail(kind, number, str(exc))
            if len(batch) >= BATCH_SIZE:
                yield batch
                batch = []
        if batch:
            yield batch

    async def new_ids(self, kind: Kind, batch: list[tuple[int, dict[str, Any]]]) -> None:
        """Give each record its id here: its own where free, else one derived from it."""
        taken = await self.rows.taken(TABLES[kind], (values["id"] for _, values in batch))
        for _, values in batch:
            old = values["id"]
            new = uuid.uuid5(self.workspace_id, str(old)) if old in taken else old
            if new != old or kind not in (Kind.TIME_ENTRIES, Kind.EVENTS):
                self.ids[kind][old] = new
            if new != old:
                self.report.remapped += 1
            values["id"] = new

    def refer(self, kind: Kind, line: int, values: dict[str, Any], name: str, target: Kind) -> bool:
        """Point `values[name]` at the restored row it names; False if the archive has none."""
        old = values[name]
        if old is None:
            return True
        new = self.ids[target].get(old)
        if new is None:
            self.fail(kind, line, f"{name} {old} is not in {target.file}")
            return False
        values[name] = new
        return True

    async def write(
        self, kind: Kind, batch: list[tuple[int, Any]], table: Table | None = None
    ) -> set[int]:
        """Insert the batch; if the database refuses it, find the lines it refuses."""
        target = TABLES[kind] if table is None else table
        if not batch or await self.rows.insert(target, [values for _, values in batch]) is None:
            return set()
        refused = set()
        for line, values in batch:
            refusal = await self.rows.insert(target, [values])
            if refusal is not None:
                refused.add(line)
                self.fail(kind, line, refusal)
        return refused

    async def run(self) -> RestoreReport:
        source_id = self.archive.source_workspace_id
        earlier = await self.rows.restored(self.archive.sha256)
        if earlier is not None:
            workspace_id, live = earlier
            if live:
                return RestoreReport(workspace_id, source_id, created=False)
            await self.rows.forget_restore(self.archive.sha256)
        if not await self.rows.taken(TABLES[Kind.WORKSPACE], [source_id]):
            self.workspace_id = source_id
        self.report = RestoreReport(self.workspace_id, source_id, created=True)
        await self.workspace()
        await self.people()
        await self.members()
        await self.invitations()
        for kind, references in _CATALOG:
            await self.catalog(kind, references)
        await self.entries()
        await self.catalog(Kind.APPROVALS, (("user_id", Kind.USERS),))
        await self.webhooks()
        await self.history()
        if self.problems:
            raise refuse(self.problems)
        declared = self.archive.manifest.get("counts", {})
        for kind in Kind:
            if declared.get(kind.value) != self.counts[kind.value]:
                self.fail(kind, 0, "the manifest counts a different number of records")
        if self.problems:
            raise refuse(self.problems)
        refusal = await self.rows.insert(
            WorkspaceRestore.__table__,
            [
                {
                    "workspace_id": self.workspace_id,
                    "archive_sha256": self.archive.sha256,
                    "source_workspace_id": source_id,
                    "restored_at": utcnow(),
                }
            ],
        )
        if refusal is not None:
            raise Conflict("This archive is being restored by another run; try again later.")
        self.report.counts = self.counts
        events.record(
            self.session,
            workspace_id=self.workspace_id,
            type="workspace.restored",
            subject_type="workspace",
            subject_id=self.workspace_id,
            data={
                "object": {
                    "id": self.workspace_id,
                    "source_workspace_id": source_id,
                    "archive_sha256": self.archive.sha256,
                    "source_version": self.archive.manifest.get("source_version"),
                    "counts": self.counts,
                    "placeholders": self.report.placeholders,
                    "invited": self.report.invited,
                    "remapped": self.report.remapped,
                }
            },
        )
        return self.report

    async def workspace(self) -> None:
        found = [item for batch in self.records(Kind.WORKSPACE) for item in batch]
        if len(found) != 1:
            if not self.problems:
                self.fail(Kind.WORKSPACE, 0, "the file holds no workspace, or more than one")
            raise refuse(self.problems)
        line, values = found[0]
        self.ids[Kind.WORKSPACE][values["id"]] = self.workspace_id
        values.update(
            id=self.workspace_id,
            owner_user_id=self.options.owner.id,
            deleted_at=None,
        )
        if self.options.name:
            values["name"] = self.options.name
        self.counts[Kind.WORKSPACE] = 1
        await self.write(Kind.WORKSPACE, [(line, values)])
        if self.problems:
            raise refuse(self.problems)

    async def people(self) -> None:
        """Each person becomes the account with their email here, or a placeholder."""
        owner = self.options.owner
        users = UserRepository(self.session)
        for batch in self.records(Kind.USERS):
            self.counts[Kind.USERS] += len(batch)
            for _, values in batch:
                values["email"] = values["email"].lower()
            found = await self.rows.accounts(values["email"] for _, values in batch)
            taken = await self.rows.taken(TABLES[Kind.USERS], (v["id"] for _, v in batch))
            for _, values in batch:
                old = values["id"]
                user_id = found.get(values["email"])
                if user_id is None:
                    user = await users.add_placeholder(
                        values["email"],
                        id=old if old not in taken else uuid.uuid4(),
                        full_name=values["full_name"],
                        timezone=values["timezone"],
                        week_start=values["week_start"],
                    )
                    user_id = user.id
                    found[values["email"]] = user_id
                    self.report.placeholders += 1
                elif user_id != owner.id:
                    self.accounts.add(user_id)
                if user_id != old:
                    self.report.remapped += 1
                self.ids[Kind.USERS][old] = user_id

    async def members(self) -> None:
        owner_id = self.options.owner.id
        owner_listed = False
        for batch in self.records(Kind.MEMBERS):
            self.counts[Kind.MEMBERS] += len(batch)
            kept = []
            for line, values in batch:
                values["workspace_id"] = self.workspace_id
                if not self.refer(Kind.MEMBERS, line, values, "user_id", Kind.USERS):
                    continue
                if values["user_id"] == owner_id:
                    values["role"] = Role.OWNER
                    owner_listed = True
                elif values["role"] == Role.OWNER:
                    values["role"] = Role.ADMIN
                if values["user_id"] in self.accounts and not self.options.enrol_accounts:
                    self.invite.append((values["user_id"], values))
                    continue
                kept.append((line, values))
            await self.new_ids(Kind.MEMBERS, kept)
            await self.write(Kind.MEMBERS, kept)
        if not owner_listed:
            owner = {
                "id": uuid.uuid4(),
                "workspace_id": self.workspace_id,
                "user_id": owner_id,
                "role": Role.OWNER,
                "hourly_rate_cents": None,
                "version": 1,
                "created_at": utcnow(),
                "updated_at": utcnow(),
            }
            await self.write(Kind.MEMBERS, [(0, owner)])

    async def invitations(self) -> None:
        pending: set[str] = set()
        for batch in self.records(Kind.INVITATIONS):
            self.counts[Kind.INVITATIONS] += len(batch)
            for _, values in batch:
                values["workspace_id"] = self.workspace_id
                inviter = values["invited_by_user_id"]
                values["invited_by_user_id"] = self.ids[Kind.USERS].get(inviter)
                values["email"] = values["email"].lower()
                pending.add(values["email"])
            await self.new_ids(Kind.INVITATIONS, batch)
            await self.write(Kind.INVITATIONS, batch)
        if not self.invite:
            return
        emails = await self.rows.emails(user_id for user_id, _ in self.invite)
        now = utcnow()
        offers = [
            (
                0,
                {
                    "id": uuid.uuid4(),
                    "workspace_id": self.workspace_id,
                    "email": emails[user_id],
                    "role": membership["role"],
                    "hourly_rate_cents": membership["hourly_rate_cents"],
                    "status": InvitationStatus.PENDING,
                    "invited_by_user_id": self.options.owner.id,
                    "answered_at": None,
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                },
            )
            for user_id, membership in self.invite
            if emails[user_id] not in pending
        ]
        self.report.invited = len(offers)
        await self.write(Kind.INVITATIONS, offers)

    async def catalog(self, kind: Kind, references: tuple[tuple[str, Kind], ...]) -> None:
        """Rows that name others only through the references given."""
        optional_users = _OPTIONAL_USERS.get(kind, ())
        for batch in self.records(kind):
            self.counts[kind] += len(batch)
            kept = []
            for line, values in batch:
                values["workspace_id"] = self.workspace_id
                for name in optional_users:
                    values[name] = self.ids[Kind.USERS].get(values[name])
                if all(self.refer(kind, line, values, name, target) for name, target in references):
                    kept.append((line, values))
            await self.new_ids(kind, kept)
            await self.write(kind, kept)

    async def entries(self) -> None:
        kind = Kind.TIME_ENTRIES
        for batch in self.records(kind):
            self.counts[kind] += len(batch)
            kept = []
            for line, values in batch:
                values["workspace_id"] = self.workspace_id
                tag_ids = values.pop("tag_ids")
                if not all(
                    self.refer(kind, line, values, name, target)
                    for name, target in (
                        ("user_id", Kind.USERS),
                        ("project_id", Kind.PROJECTS),
                        ("task_id", Kind.TASKS),
                    )
                ):
                    continue
                values["_tags"] = []
                for tag_id in dict.fromkeys(tag_ids):
                    tags = {"tag_id": tag_id}
                    if self.refer(kind, line, tags, "tag_id", Kind.TAGS):
                        values["_tags"].append(tags["tag_id"])
                kept.append((line, values))
            await self.new_ids(kind, kept)
            links = [
                (
                    line,
                    {
                        "time_entry_id": values["id"],
                        "tag_id": tag,
                        "workspace_id": values["workspace_id"],
                    },
                )
                for line, values in kept
                for tag in values.pop("_tags")
            ]
            refused = await self.write(kind, kept)
            # A refused entry's links would only be refused again, for want of it.
            kept_links = [link for link in links if link[0] not in refused]
            await self.write(kind, kept_links, time_entry_tags)

    async def webhooks(self) -> None:
        """Webhooks, disabled and with a new secret each: the old one stays with its source."""
        kind = Kind.WEBHOOKS
        for batch in self.records(kind):
            self.counts[kind] += len(batch)
            for _, values in batch:
                values.update(
                    workspace_id=self.workspace_id,
                    created_by_user_id=self.ids[Kind.USERS].get(values["created_by_user_id"]),
                    enabled=False,
                    disabled_reason=RESTORED_WEBHOOK,
                    secret=new_secret(),
                    failing_since=None,
                )
            await self.new_ids(kind, batch)
            refused = await self.write(kind, batch)
            subscriptions = [
                (line, {"webhook_id": values["id"], "pattern": pattern})
                for line, values in batch
                if line not in refused
                for pattern in subscription_patterns(values["event_types"])
            ]
            await self.write(kind, subscriptions, webhook_subscriptions)

    async def history(self) -> None:
        """The events, with their own sequence numbers; the counter continues after them."""
        kind = Kind.EVENTS
        last = 0
        users = self.ids[Kind.USERS]
        for batch in self.records(kind):
            self.counts[kind] += len(batch)
            for _, values in batch:
                values["workspace_id"] = self.workspace_id
                for name in ("actor_id", "user_id"):
                    values[name] = users.get(values[name], values[name])
                project = values["project_id"]
                values["project_id"] = self.ids[Kind.PROJECTS].get(project, project)
                subject = _SUBJECTS.get(values["subject_type"])
                if subject is not None:
                    old = values["subject_id"]
                    values["subject_id"] = self.ids[subject].get(old, old)
                last = max(last, values["sequence"])
            await self.new_ids(kind, batch)
            await self.write(kind, batch)
        if last:
            counter = {"workspace_id": self.workspace_id, "last_sequence": last}
            await self.write(kind, [(0, counter)], EventCounter.__table__)


# What each kind names, in the order a restore writes them after the people.
_CATALOG: tuple[tuple[Kind, tuple[tuple[str, Kind], ...]], ...] = (
    (Kind.CLIENTS, ()),
    (Kind.PROJECTS, (("client_id", Kind.CLIENTS),)),
    (Kind.PROJECT_MEMBERS, (("project_id", Kind.PROJECTS), ("user_id", Kind.USERS))),
    (Kind.TASKS, (("project_id", Kind.PROJECTS),)),
    (Kind.TAGS, ()),
)
# People a row may name who need not be in the archive: no longer there, they are forgotten.
_OPTIONAL_USERS: dict[Kind, tuple[str, ...]] = {
    Kind.PROJECTS: ("created_by_user_id",),
    Kind.APPROVALS: ("decided_by_user_id",),
}
# An event's subject type and the kind of row it names.
_SUBJECTS = {
    "workspace": Kind.WORKSPACE,
    "member": Kind.USERS,
    "invitation": Kind.INVITATIONS,
    "client": Kind.CLIENTS,
    "project": Kind.PROJECTS,
    "project_member": Kind.PROJECT_MEMBERS,
    "task": Kind.TASKS,
    "tag": Kind.TAGS,
    "time_entry": Kind.TIME_ENTRIES,
    "approval": Kind.APPROVALS,
    "webhook": Kind.WEBHOOKS,
}


def exported_owner_email(archive: Archive) -> str | None:
    """The email of the person who owned the workspace the archive was made from."""
    workspace = next(archive.lines(Kind.WORKSPACE), None)
    if workspace is None:
        return None
    try:
        owner_id = parse_record(Kind.WORKSPACE, workspace[1])["owner_user_id"]
    except RecordError:
        return None
    for _, line in archive.lines(Kind.USERS):
        try:
            person = parse_record(Kind.USERS, line)
        except RecordError:
            continue
        if person["id"] == owner_id:
            return str(person["email"]).lower()
    return None


async def restore_workspace(
    session: AsyncSession, archive: Archive, options: RestoreOptions, *, dry_run: bool = False
) -> RestoreReport:
    """Restore an archive into a new workspace, in the session's transaction.

    All or nothing: a bad record raises `ArchiveError` with every problem found (up to
    `MAX_REPORTED_ERRORS`), and the caller's unit of work rolls back. A dry run does
    everything in a savepoint that it rolls back, so it finds what the database would
    refuse too, and reports the same counts. The same archive restored again (its manifest's
    checksum is recorded) creates nothing and names the workspace it made before.
    """
    restore = _Restore(session, archive, options)
    async with session.begin_nested() as attempt:
        report = await restore.run()
        if dry_run:
            await attempt.rollback()
    return report


async def choose_owner(session: AsyncSession, archive: Archive, fallback_email: str | None) -> User:
    """Who owns a workspace restored by the operator: the exported owner, matched by email,
    or else the account named by `fallback_email`."""
    users = UserRepository(session)
    exported = exported_owner_email(archive)
    if exported is not None and (found := await users.get_by_email(exported)) is not None:
        return found
    if fallback_email is None:
        raise InvalidInput(
            f"The exported owner ({exported or 'unknown'}) has no account here: "
            "name the new owner with --owner."
        )
    named = await users.get_by_email(fallback_email)
    if named is None:
        raise InvalidInput(f"No account has the email {fallback_email}.")
    return named
