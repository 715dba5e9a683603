"""The full workspace export and its restore: access, idempotence, dry runs, bad archives,
closed time and events, and a round trip across databases."""

import asyncio
import hashlib
import io
import json
import uuid
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner

from app.cli import cli
from app.config import Environment, Settings
from app.db import migrations
from app.db.engine import Sessions, create_engine, create_sessions
from app.db.models import (
    Approval,
    Base,
    Event,
    EventCounter,
    Invitation,
    Membership,
    Project,
    Tag,
    Task,
    TimeEntry,
    User,
    Webhook,
    Workspace,
    time_entry_tags,
    webhook_subscriptions,
)
from app.db.unit_of_work import UnitOfWork
from app.enums import ApprovalState, ProjectVisibility, Role
from app.services import archive as archive_service
from app.services.archive import (
    LOADERS,
    ArchiveError,
    Kind,
    RecordError,
    export_workspace,
    read_archive,
)
from app.services.restore import RESTORED_WEBHOOK, RestoreOptions, RestoreReport, restore_workspace
from tests.factories import (
    TEST_SECRET_KEY,
    Team,
    auth_headers,
    make_client,
    make_entry,
    make_invitation,
    make_membership,
    make_project,
    make_project_member,
    make_tag,
    make_task,
    make_user,
    make_webhook,
    make_workspace,
)

START = datetime(2024, 4, 22, 9, tzinfo=UTC)
LOCKED_BEFORE = datetime(2024, 4, 1, tzinfo=UTC)


async def build_rich_workspace(session: AsyncSession, owner: User, admin: User) -> Workspace:
    """A workspace with every kind of row: rates everywhere, a private project with its
    members, tags on entries, approvals, a placeholder member, a former member's time,
    a pending invitation, closed time and the events of all of it."""
    workspace = await make_workspace(
        session,
        owner=owner,
        currency="EUR",
        default_hourly_rate_cents=5000,
        prevent_overlaps=True,
        members_can_see_rates=True,
    )
    await make_membership(session, workspace, admin, role=Role.ADMIN, hourly_rate_cents=7000)
    placeholder = await make_user(session, is_active=False, full_name="Placeholder")
    await make_membership(session, workspace, placeholder, hourly_rate_cents=3000)
    former = await make_user(session, full_name="Former Member", timezone="Europe/Berlin")
    acme = await make_client(session, workspace, name="Acme")
    await make_client(session, workspace, name="Old client", archived_at=START)
    public = await make_project(
        session,
        workspace,
        name="Website",
        client_id=acme.id,
        color="#ff8800",
        hourly_rate_cents=9000,
        estimate_seconds=36000,
        budget_cents=500000,
        created_by_user_id=owner.id,
    )
    private = await make_project(
        session, workspace, name="Secret", visibility=ProjectVisibility.PRIVATE
    )
    await make_project_member(session, private, admin, hourly_rate_cents=12000)
    await make_project_member(session, private, placeholder)
    task = await make_task(session, public, name="Design", estimate_seconds=7200, done_at=START)
    urgent = await make_tag(session, workspace, name="urgent")
    later = await make_tag(session, workspace, name="later")
    first = await make_entry(
        session,
        workspace,
        admin,
        project_id=public.id,
        task_id=task.id,
        billable=True,
        hourly_rate_cents=9000,
        description="Wireframes",
        start_at=START,
    )
    second = await make_entry(
        session, workspace, placeholder, project_id=private.id, start_at=START + timedelta(days=1)
    )
    await make_entry(session, workspace, former, start_at=LOCKED_BEFORE - timedelta(days=3))
    await make_entry(session, workspace, owner, start_at=START, deleted_at=START)
    await session.execute(
        time_entry_tags.insert(),
        [
            {"time_entry_id": first.id, "tag_id": urgent.id, "workspace_id": workspace.id},
            {"time_entry_id": first.id, "tag_id": later.id, "workspace_id": workspace.id},
            {"time_entry_id": second.id, "tag_id": later.id, "workspace_id": workspace.id},
        ],
    )
    await make_invitation(session, workspace, "newcomer@example.com", hourly_rate_cents=4000)
    for user, state, week in ((admin, ApprovalState.APPROVED, 0), (placeholder, "submitted", 1)):
        monday = date(2024, 4, 22) + timedelta(weeks=week)
        session.add(
            Approval(
                workspace_id=workspace.id,
                user_id=user.id,
                period_start=monday,
                period_end=monday + timedelta(days=7),
                timezone="UTC",
                starts_at=START.replace(hour=0) + timedelta(weeks=week),
                ends_at=START.replace(hour=0) + timedelta(weeks=week, days=7),
                state=ApprovalState(state),
                note="Week of work",
                submitted_at=START + timedelta(days=5),
                decided_at=START + timedelta(days=6) if week == 0 else None,
                decided_by_user_id=owner.id if week == 0 else None,
                seconds=3600 if week == 0 else None,
                billable_seconds=3600 if week == 0 else None,
                amount_cents=9000 if week == 0 else None,
            )
        )
    await make_webhook(session, workspace, admin, event_types=["time_entry.*", "approval.*"])
    workspace.locked_before = LOCKED_BEFORE
    await session.flush()
    await session.commit()  # the events of all of it
    return workspace


async def archive_of(sessions: Sessions, workspace_id: uuid.UUID) -> bytes:
    return b"".join([chunk async for chunk in export_workspace(sessions, workspace_id)])


async def restore(
    sessions: Sessions, data: bytes, owner: User, *, dry_run: bool = False
) -> RestoreReport:
    async with UnitOfWork(sessions) as uow:
        archive = await read_archive(io.BytesIO(data))
        options = RestoreOptions(owner=owner, enrol_accounts=True)
        return await restore_workspace(uow.session, archive, options, dry_run=dry_run)


def rewritten(data: bytes, changes: dict[str, bytes], *, manifest: dict[str, Any] | None = None):
    """The archive with some files replaced; the manifest follows unless given."""
    source = zipfile.ZipFile(io.BytesIO(data))
    found = json.loads(source.read("manifest.json"))
    for name, content in changes.items():
        found["files"][name] = {"records": 0, "sha256": hashlib.sha256(content).hexdigest()}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            if info.filename != "manifest.json":
                target.writestr(info.filename, changes.get(info.filename, source.read(info)))
        target.writestr("manifest.json", json.dumps(manifest or found))
    return out.getvalue()


def lines_of(data: bytes, name: str) -> list[bytes]:
    return zipfile.ZipFile(io.BytesIO(data)).read(name).splitlines(keepends=True)


# Access


@pytest.mark.parametrize(
    ("role", "status"), [("owner", 200), ("admin", 403), ("member", 403), ("outsider", 404)]
)
async def test_full_export_is_for_the_owner_alone(
    client: AsyncClient, team: Team, role: str, status: int
) -> None:
    response = await client.get(
        f"/api/v1/workspaces/{team.workspace.id}/export/full",
        headers=auth_headers(team.by_role(role)),
    )
    assert response.status_code == status
    if status != 200:
        assert response.headers["content-type"] == "application/problem+json"
        return
    assert response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["format_version"] == 1
    assert manifest["workspace_id"] == str(team.workspace.id)
    assert manifest["counts"]["members"] == 3 and manifest["counts"]["users"] == 3
    for name, expected in manifest["files"].items():
        assert hashlib.sha256(archive.read(name)).hexdigest() == expected["sha256"]


async def test_export_pages_through_every_row_whatever_the_batch(
    session: AsyncSession, sessions: Sessions, team: Team
) -> None:
    source = await build_rich_workspace(session, team.owner, team.admin)
    whole = zipfile.ZipFile(io.BytesIO(await archive_of(sessions, source.id)))
    chunks = [chunk async for chunk in export_workspace(sessions, source.id, batch_size=1)]
    paged = zipfile.ZipFile(io.BytesIO(b"".join(chunks)))
    assert len(chunks) > 30  # a chunk a row: the file streams as it is read
    for name in whole.namelist():
        if name != "manifest.json":
            assert paged.read(name) == whole.read(name), name
    assert len(whole.read("time_entries.jsonl").splitlines()) == 4


async def test_restore_needs_a_signed_in_caller(client: AsyncClient) -> None:
    response = await client.post(
        "/api/v1/workspaces/import", files={"file": ("a.zip", b"nothing", "application/zip")}
    )
    assert response.status_code == 401


# Upload, idempotence, dry run


async def test_upload_restores_into_a_new_workspace_once(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    source = await build_rich_workspace(session, team.owner, team.admin)
    exported = await client.get(
        f"/api/v1/workspaces/{source.id}/export/full", headers=auth_headers(team.owner)
    )
    upload = {"file": ("acme.zip", exported.content, "application/zip")}
    dry = await client.post(
        "/api/v1/workspaces/import",
        files=upload,
        data={"dry_run": "true"},
        headers=auth_headers(team.outsider),
    )
    assert dry.status_code == 200, dry.text
    assert dry.json()["workspace"] is None and dry.json()["counts"]["time_entries"] == 4
    workspaces_before = await session.scalar(select(func.count()).select_from(Workspace))

    created = await client.post(
        "/api/v1/workspaces/import",
        files=upload,
        data={"name": "Acme again"},
        headers=auth_headers(team.outsider),
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["created"] and body["workspace"]["role"] == "owner"
    assert body["workspace"]["name"] == "Acme again"
    assert body["workspace"]["owner_user_id"] == str(team.outsider.id)
    # On the instance it came from every id is taken: each got a new one.
    assert body["remapped"] > 0 and body["workspace"]["id"] != str(source.id)
    # The owner and the admin have accounts here: invited, not made members unasked.
    assert body["invited"] == 3
    restored_id = uuid.UUID(body["workspace"]["id"])
    roles = dict(
        (
            await session.execute(
                select(Membership.user_id, Membership.role).where(
                    Membership.workspace_id == restored_id
                )
            )
        ).all()
    )
    assert roles[team.outsider.id] == Role.OWNER and team.admin.id not in roles
    entries = await session.scalar(
        select(func.count()).select_from(TimeEntry).where(TimeEntry.workspace_id == restored_id)
    )
    assert entries == 4
    # Every reference points into the new workspace: projects, tasks, tags, event subjects.
    restored = (
        await session.execute(
            select(TimeEntry.id, Project.workspace_id, Task.workspace_id)
            .outerjoin(Project, Project.id == TimeEntry.project_id)
            .outerjoin(Task, Task.id == TimeEntry.task_id)
            .where(TimeEntry.workspace_id == restored_id)
        )
    ).all()
    assert {project for _, project, _ in restored} == {restored_id, None}
    assert {task for _, _, task in restored} == {restored_id, None}
    links = await session.scalar(
        select(func.count())
        .select_from(time_entry_tags)
        .join(Tag, Tag.id == time_entry_tags.c.tag_id)
        .where(Tag.workspace_id == restored_id)
    )
    assert links == 3
    subjects = set(
        await session.scalars(
            select(Event.subject_id).where(
                Event.workspace_id == restored_id, Event.subject_type == "time_entry"
            )
        )
    )
    assert subjects and subjects <= {entry_id for entry_id, _, _ in restored}
    pending = await session.scalar(
        select(func.count())
        .select_from(Invitation)
        .where(Invitation.workspace_id == restored_id, Invitation.status == "pending")
    )
    assert pending == 4  # the exported one and the three people invited
    # The webhook came without its secret: disabled, with a new one, still subscribed.
    assert b"whsec_" not in zipfile.ZipFile(io.BytesIO(exported.content)).read("webhooks.jsonl")
    webhook = (
        await session.scalars(select(Webhook).where(Webhook.workspace_id == restored_id))
    ).one()
    original = (
        await session.scalars(select(Webhook).where(Webhook.workspace_id == source.id))
    ).one()
    assert not webhook.enabled and webhook.disabled_reason == RESTORED_WEBHOOK
    assert webhook.secret.startswith("whsec_") and webhook.secret != original.secret
    assert webhook.url == original.url and webhook.event_types == original.event_types
    patterns = set(
        await session.scalars(
            select(webhook_subscriptions.c.pattern).where(
                webhook_subscriptions.c.webhook_id == webhook.id
            )
        )
    )
    assert patterns == {"time/_entry.%", "approval.%"}
    assert (
        await session.scalar(select(func.count()).select_from(Workspace)) == workspaces_before + 1
    )

    again = await client.post(
        "/api/v1/workspaces/import", files=upload, headers=auth_headers(team.outsider)
    )
    assert again.status_code == 200
    assert not again.json()["created"] and again.json()["workspace"]["id"] == str(restored_id)
    assert (
        await session.scalar(select(func.count()).select_from(Workspace)) == workspaces_before + 1
    )
    stranger = await client.post(
        "/api/v1/workspaces/import", files=upload, headers=auth_headers(team.member)
    )
    assert stranger.status_code == 409


# Bad archives


def first_user_with(data: bytes, **changes: Any) -> bytes:
    """`data` with its first user's record changed."""
    users = lines_of(data, "users.jsonl")
    changed = json.dumps({**json.loads(users[0]), **changes}).encode() + b"\n"
    return rewritten(data, {"users.jsonl": b"".join([changed, *users[1:]])})


async def test_bad_archives_are_refused_whole_with_file_and_line(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    exported = await client.get(
        f"/api/v1/workspaces/{team.workspace.id}/export/full", headers=auth_headers(team.owner)
    )
    data = exported.content
    members = lines_of(data, "members.jsonl")
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("manifest.json"))
    tampered = dict(manifest, files=dict(manifest["files"]))
    tampered["files"]["clients.jsonl"] = {"records": 0, "sha256": "0" * 64}
    broken_line = b"".join([members[0], b"{not json\n", *members[1:]])
    wrong_rate = json.loads(members[1])
    wrong_rate["hourly_rate_cents"] = "a lot"
    cases = {
        "checksum": (rewritten(data, {}, manifest=tampered), ["clients.jsonl", 0]),
        "json": (rewritten(data, {"members.jsonl": broken_line}), ["members.jsonl", 2]),
        "field": (
            rewritten(
                data,
                {"members.jsonl": b"".join([members[0], json.dumps(wrong_rate).encode() + b"\n"])},
            ),
            ["members.jsonl", 2],
        ),
        "email": (first_user_with(data, email="nobody"), ["users.jsonl", 1]),
        "nul": (first_user_with(data, full_name="a\x00"), ["users.jsonl", 1]),
        "version": (
            rewritten(data, {}, manifest=dict(manifest, format_version=99)),
            ["manifest.json", 0],
        ),
        "not a zip": (b"PK but not really", ["archive", 0]),
    }
    workspaces = await session.scalar(select(func.count()).select_from(Workspace))
    users = await session.scalar(select(func.count()).select_from(User))
    for case, (archive, where) in cases.items():
        response = await client.post(
            "/api/v1/workspaces/import",
            files={"file": ("bad.zip", archive, "application/zip")},
            headers=auth_headers(team.member),
        )
        assert response.status_code == 422, (case, response.text)
        problem = response.json()
        assert problem["errors"][0]["loc"] == ["body", "file", *where], case
        assert problem["errors"][0]["type"] == "archive_record"
    assert await session.scalar(select(func.count()).select_from(Workspace)) == workspaces
    assert await session.scalar(select(func.count()).select_from(User)) == users


def test_a_choice_given_as_a_list_or_an_object_is_refused() -> None:
    for role in ([], {}, ["member"]):
        with pytest.raises(RecordError, match="is not one of"):
            LOADERS[Kind.INVITATIONS]["role"](role)


def test_a_json_document_holding_nul_is_refused_like_a_text() -> None:
    """PostgreSQL stores NUL neither in text nor in a document: such a record fails."""
    event = {"data": {"object": {"description": "fine", "tags": ["ok", "a\x00b"]}}}
    with pytest.raises(RecordError, match="NUL"):
        LOADERS[Kind.EVENTS]["data"](event["data"])
    assert LOADERS[Kind.EVENTS]["data"]({"object": {"text": "\\u0000 as typed"}})
    with pytest.raises(RecordError, match="NUL"):
        LOADERS[Kind.EVENTS]["data"]({"key\x00": 1})


async def test_a_record_the_database_refuses_is_named_and_nothing_is_written(
    client: AsyncClient, session: AsyncSession, sessions: Sessions, team: Team
) -> None:
    source = await build_rich_workspace(session, team.owner, team.admin)
    data = await archive_of(sessions, source.id)
    entries = lines_of(data, "time_entries.jsonl")
    # The task belongs to another project: valid JSON and known ids, refused by the keys
    # that bind an entry's task to its project.
    position, record = next(
        (number, json.loads(line))
        for number, line in enumerate(entries, 1)
        if json.loads(line)["task_id"] is None and json.loads(line)["project_id"]
    )
    task = next(json.loads(line)["task_id"] for line in entries if json.loads(line)["task_id"])
    record["task_id"] = task
    entries[position - 1] = json.dumps(record).encode() + b"\n"
    workspaces = await session.scalar(select(func.count()).select_from(Workspace))
    with pytest.raises(ArchiveError) as refused:
        await restore(
            sessions, rewritten(data, {"time_entries.jsonl": b"".join(entries)}), team.outsider
        )
    assert [problem.field for problem in refused.value.problems] == [
        ("file", "time_entries.jsonl", position)
    ]
    assert "refuses" in refused.value.problems[0].message
    assert await session.scalar(select(func.count()).select_from(Workspace)) == workspaces


async def test_an_archive_that_unpacks_to_far_more_is_refused_before_reading(
    monkeypatch: pytest.MonkeyPatch, session: AsyncSession, sessions: Sessions, team: Team
) -> None:
    data = await archive_of(sessions, team.workspace.id)
    monkeypatch.setattr(archive_service, "MAX_EXPANSION", 0)
    with pytest.raises(ArchiveError, match="unpack"):
        await restore(sessions, data, team.outsider)


# Closed time and events


async def test_restore_keeps_closed_time_and_continues_the_event_history(
    client: AsyncClient, session: AsyncSession, sessions: Sessions, team: Team
) -> None:
    source = await build_rich_workspace(session, team.owner, team.admin)
    history = list(
        (
            await session.execute(
                select(Event.sequence, Event.type)
                .where(Event.workspace_id == source.id)
                .order_by(Event.sequence)
            )
        ).all()
    )
    assert history
    report = await restore(sessions, await archive_of(sessions, source.id), team.outsider)
    restored = await session.get(Workspace, report.workspace_id, populate_existing=True)
    assert restored is not None and restored.locked_before == LOCKED_BEFORE
    approvals = (
        await session.execute(
            select(Approval.state, Approval.starts_at, Approval.ends_at, Approval.amount_cents)
            .where(Approval.workspace_id == restored.id)
            .order_by(Approval.starts_at)
        )
    ).all()
    original = (
        await session.execute(
            select(Approval.state, Approval.starts_at, Approval.ends_at, Approval.amount_cents)
            .where(Approval.workspace_id == source.id)
            .order_by(Approval.starts_at)
        )
    ).all()
    assert approvals == original

    # The history travels with its numbers; the restore's own event comes after it.
    events = (
        await session.execute(
            select(Event.sequence, Event.type)
            .where(Event.workspace_id == restored.id)
            .order_by(Event.sequence)
        )
    ).all()
    assert events[:-1] == history
    assert events[-1] == (history[-1][0] + 1, "workspace.restored")

    # Closed time stays closed: before locked_before and in the approved week alike.
    for start, user in (
        (LOCKED_BEFORE - timedelta(days=1), team.outsider),
        (START + timedelta(hours=3), team.admin),
    ):
        refused = await client.post(
            f"/api/v1/workspaces/{restored.id}/time-entries",
            json={
                "start_at": start.isoformat(),
                "end_at": (start + timedelta(hours=1)).isoformat(),
                "user_id": str(user.id),
            },
            headers=auth_headers(team.outsider),
        )
        assert refused.status_code == 409, refused.text
        assert refused.json()["type"] == "urn:timesheet:problem:period-locked"
    counter = await session.get(EventCounter, restored.id, populate_existing=True)
    assert counter is not None and counter.last_sequence == history[-1][0] + 1


# Round trip across databases


def _settings(url: str) -> Settings:
    return Settings(
        database_url=url,
        environment=Environment.TEST,
        secret_key=TEST_SECRET_KEY,
        auto_migrate=False,
        _env_file=None,
    )


async def _fresh_sqlite(path: Path) -> AsyncEngine:
    url = f"sqlite+aiosqlite:///{path}"
    await migrations.upgrade(url)
    return create_engine(_settings(url))


# What a restore writes of its own, and so differs between the copies: its record, the
# counter past its event, and a webhook's new secret and the state it waits in.
_RESTORE_OWN = {"workspace_restores", "event_counters"}
_WEBHOOK_OWN = ("secret", "enabled", "disabled_reason", "failing_since")
_USER_COLUMNS = ("id", "email", "full_name", "timezone", "week_start")


async def dump(sessions: Sessions, workspace_id: uuid.UUID) -> dict[str, list[dict[str, Any]]]:
    """Every row of the workspace, table by table (users by what identifies them), less
    what the restores wrote themselves."""
    tables: dict[str, list[dict[str, Any]]] = {}
    async with sessions.reading() as session:
        for table in Base.metadata.sorted_tables:
            if table.name in _RESTORE_OWN:
                continue
            if "workspace_id" in table.c:
                statement = select(table).where(table.c.workspace_id == workspace_id)
            elif table.name == "workspaces":
                statement = select(table).where(table.c.id == workspace_id)
            else:
                continue
            rows = [dict(row._mapping) for row in await session.execute(statement)]
            if table.name == "webhooks":
                rows = [{k: v for k, v in row.items() if k not in _WEBHOOK_OWN} for row in rows]
            if table.name == "events":
                rows = [row for row in rows if row["type"] != "workspace.restored"]
            tables[table.name] = sorted(rows, key=lambda row: sorted(map(str, row.values())))
        named = {
            user_id
            for rows in tables.values()
            for row in rows
            for key, user_id in row.items()
            if key in ("user_id", "owner_user_id", "decided_by_user_id") and user_id
        }
        users = await session.execute(
            select(*(User.__table__.c[name] for name in _USER_COLUMNS)).where(User.id.in_(named))
        )
        tables["users"] = sorted((dict(row._mapping) for row in users), key=lambda r: r["email"])
    return tables


@pytest.mark.committed
async def test_round_trip_through_the_other_database_gives_the_same_data(
    tmp_path: Path, sessions: Sessions, is_postgres: bool
) -> None:
    """SQLite → the suite's database (PostgreSQL when TEST_DATABASE_URL names one) → SQLite."""
    first, last = await _fresh_sqlite(tmp_path / "a.db"), await _fresh_sqlite(tmp_path / "c.db")
    try:
        first_sessions, last_sessions = create_sessions(first), create_sessions(last)
        async with first_sessions.writing() as session:
            owner = await make_user(session, email="owner@example.com", full_name="Owner")
            admin = await make_user(session, email="admin@example.com", full_name="Admin")
            source = await build_rich_workspace(session, owner, admin)
        # The owner has an account on each instance, with the same id by chance of design.
        for target in (sessions, last_sessions):
            async with target.writing() as session:
                await make_user(session, id=owner.id, email=owner.email, full_name="Owner")
                await session.commit()

        data = await archive_of(first_sessions, source.id)
        middle = await restore(sessions, data, owner)
        assert middle.created and middle.workspace_id == source.id and middle.remapped == 0
        assert middle.placeholders == 3  # the admin, the placeholder and the former member
        async with sessions.reading() as session:
            # Each person takes theirs over by signing up with its email.
            marked = await session.scalars(select(User.email).where(User.is_placeholder))
            assert "admin@example.com" in marked.all()
        again = await restore(sessions, data, owner)  # the same file: nothing more
        assert not again.created and again.workspace_id == source.id

        final = await restore(last_sessions, await archive_of(sessions, source.id), owner)
        assert final.created and final.workspace_id == source.id

        expected, found = (
            await dump(first_sessions, source.id),
            await dump(last_sessions, source.id),
        )
        assert found.keys() == expected.keys()
        for table in expected:
            assert found[table] == expected[table], table
        assert len(expected["time_entry_tags"]) == 3 and len(expected["events"]) > 10
        async with last_sessions.reading() as session:
            restores = await session.scalar(
                select(func.count()).select_from(Event).where(Event.type == "workspace.restored")
            )
        assert restores == 2  # one per restore, after the history
    finally:
        await first.dispose()
        await last.dispose()


@pytest.mark.committed
async def test_dry_run_reports_and_writes_nothing(tmp_path: Path, sessions: Sessions) -> None:
    source_engine = await _fresh_sqlite(tmp_path / "a.db")
    try:
        source_sessions = create_sessions(source_engine)
        async with source_sessions.writing() as session:
            owner = await make_user(session, email="owner@example.com")
            admin = await make_user(session, email="admin@example.com")
            source = await build_rich_workspace(session, owner, admin)
        data = await archive_of(source_sessions, source.id)
        async with sessions.writing() as session:
            here = await make_user(session, email="owner@example.com")
            await session.commit()
        report = await restore(sessions, data, here, dry_run=True)
        assert report.created and report.counts["time_entries"] == 4
        assert report.counts["approvals"] == 2 and report.counts["invitations"] == 1
        async with sessions.reading() as session:
            assert await session.scalar(select(func.count()).select_from(Workspace)) == 0
            assert await session.scalar(select(func.count()).select_from(User)) == 1
            assert await session.scalar(select(func.count()).select_from(Event)) == 0
        with pytest.raises(ArchiveError):
            await restore(sessions, rewritten(data, {"tags.jsonl": b"[]\n"}), here, dry_run=True)
    finally:
        await source_engine.dispose()


# The command line


@pytest.mark.committed
def test_commands_export_and_restore_with_file_and_line_for_a_bad_record(
    tmp_path: Path, database_url: str, engine: AsyncEngine
) -> None:
    runner = CliRunner()
    env = {"DATABASE_URL": database_url, "ENVIRONMENT": "test"}

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(cli, list(args), env=env)
        return result.exit_code, result.output

    assert run("db", "seed")[0] == 0

    def read(statement: Any) -> list[Any]:
        """Rows read on an engine of this call's own: the command runs loops of its own."""

        async def run() -> list[Any]:
            own = create_async_engine(database_url, poolclass=NullPool)
            async with own.connect() as connection:
                found = list((await connection.execute(statement)).scalars())
            await own.dispose()
            return found

        return asyncio.run(run())

    (workspace_id,) = read(select(Workspace.id))
    archive = tmp_path / "acme.zip"
    code, output = run("workspace", "export", "--workspace", str(workspace_id), "-o", str(archive))
    assert code == 0, output
    data = archive.read_bytes()
    assert json.loads(zipfile.ZipFile(archive).read("manifest.json"))["counts"]["users"] == 3

    broken = tmp_path / "broken.zip"
    entries = lines_of(data, "time_entries.jsonl")
    broken.write_bytes(
        rewritten(data, {"time_entries.jsonl": b"".join([*entries[:2], b"[1, 2]\n"])})
    )
    code, output = run("workspace", "import", str(broken), "--name", "Copy")
    assert code == 1
    assert "time_entries.jsonl:3: not a JSON object" in output

    code, output = run("workspace", "import", str(archive), "--dry-run", "--name", "Copy")
    assert code == 0 and "Dry run" in output, output
    code, output = run("workspace", "import", str(archive), "--name", "Copy")
    assert code == 0 and "Restored" in output, output
    code, output = run("workspace", "import", str(archive), "--name", "Copy")
    assert code == 0 and "restored here before" in output, output

    names = read(select(Workspace.name))
    assert len(names) == 2 and "Copy" in names
