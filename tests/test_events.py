"""Events: one for every committed change, none for a refused one, read as the audit log."""

import asyncio
import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.events import jsonable
from app.db.models import Event, TimeEntry
from app.db.unit_of_work import UnitOfWork
from app.enums import EventOrigin, ProjectVisibility
from app.repositories.events import EventRetention
from tests.factories import (
    Team,
    auth_headers,
    make_client,
    make_entry,
    make_project,
    make_project_member,
    make_tag,
    make_task,
)
from tests.importing import finished_run
from tests.tracking import entries_url, iso, timer_url


def events_url(team: Team) -> str:
    return f"/api/v1/workspaces/{team.workspace.id}/events"


async def read_events(
    client: AsyncClient, team: Team, reader: Any = None, **params: Any
) -> list[dict[str, Any]]:
    response = await client.get(
        events_url(team),
        params={"order": "sequence", "limit": 200, **params},
        headers=auth_headers(reader or team.admin),
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def events_of(client: AsyncClient, team: Team, subject_id: Any) -> list[dict[str, Any]]:
    return await read_events(client, team, subject_id=str(subject_id))


async def test_an_entry_has_an_event_for_each_change_with_its_old_values(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    tag = await make_tag(session, team.workspace)
    headers = {**auth_headers(team.member), "X-Request-ID": "req-create-1"}
    created = await client.post(
        entries_url(team.workspace),
        json={
            "start_at": iso(9),
            "end_at": iso(10),
            "description": "draft",
            "tag_ids": [str(tag.id)],
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    url = f"{entries_url(team.workspace)}/{created.json()['id']}"
    member = auth_headers(team.member)
    assert (
        await client.patch(url, json={"description": "final", "tag_ids": []}, headers=member)
    ).status_code == 200
    assert (await client.delete(url, headers=member)).status_code == 204
    assert (await client.post(f"{url}/restore", headers=member)).status_code == 200

    found = await events_of(client, team, created.json()["id"])
    assert [event["type"] for event in found] == [
        "time_entry.created",
        "time_entry.updated",
        "time_entry.deleted",
        "time_entry.restored",
    ]
    first, changed, deleted, restored = found
    assert first["actor_id"] == str(team.member.id)
    assert first["origin"] == "api"
    assert first["request_id"] == "req-create-1"
    assert first["subject"] == {"type": "time_entry", "id": created.json()["id"]}
    assert first["data"]["object"]["description"] == "draft"
    assert first["data"]["object"]["tag_ids"] == [str(tag.id)]
    assert "previous" not in first["data"]
    assert changed["data"]["object"]["description"] == "final"
    assert changed["data"]["object"]["tag_ids"] == []
    assert changed["data"]["previous"] == {"description": "draft", "tag_ids": [str(tag.id)]}
    assert deleted["data"]["previous"] == {"deleted_at": None}
    assert deleted["data"]["object"]["deleted_at"] is not None
    assert restored["data"]["object"]["deleted_at"] is None
    sequences = [event["sequence"] for event in found]
    assert sequences == sorted(sequences) and len(set(sequences)) == 4


async def test_the_timer_starts_and_stops_with_events_of_its_own(
    client: AsyncClient, team: Team
) -> None:
    headers = auth_headers(team.member)
    started = await client.post(timer_url(team.workspace, "start"), json={}, headers=headers)
    assert started.status_code == 201, started.text
    stopped = await client.post(timer_url(team.workspace, "stop"), headers=headers)
    assert stopped.status_code == 200, stopped.text
    found = await events_of(client, team, started.json()["id"])
    assert [event["type"] for event in found] == ["timer.started", "timer.stopped"]
    assert found[1]["data"]["previous"] == {"end_at": None}
    assert found[1]["data"]["object"]["end_at"] == stopped.json()["end_at"].replace("+00:00", "Z")


@pytest.mark.parametrize("resource", ["clients", "projects", "tags"])
async def test_catalog_rows_have_created_updated_deleted_and_restored(
    client: AsyncClient, team: Team, resource: str
) -> None:
    headers = auth_headers(team.admin)
    base = f"/api/v1/workspaces/{team.workspace.id}/{resource}"
    created = await client.post(base, json={"name": "First"}, headers=headers)
    assert created.status_code == 201, created.text
    url = f"{base}/{created.json()['id']}"
    assert (await client.patch(url, json={"name": "Second"}, headers=headers)).status_code == 200
    assert (await client.delete(url, headers=headers)).status_code == 204
    assert (await client.post(f"{url}/restore", headers=headers)).status_code == 200
    found = await events_of(client, team, created.json()["id"])
    kind = resource.removesuffix("s")
    assert [event["type"] for event in found] == [
        f"{kind}.{verb}" for verb in ("created", "updated", "deleted", "restored")
    ]
    assert found[1]["data"]["previous"] == {"name": "First"}
    assert found[1]["data"]["object"]["name"] == "Second"


async def test_tasks_members_invitations_project_members_and_the_workspace_have_events(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    project = await make_project(session, team.workspace)
    headers = auth_headers(team.owner)
    workspace_url = f"/api/v1/workspaces/{team.workspace.id}"
    task = await client.post(
        f"{workspace_url}/tasks",
        json={"name": "Design", "project_id": str(project.id)},
        headers=headers,
    )
    assert task.status_code == 201, task.text
    renamed = await client.patch(workspace_url, json={"name": "Renamed"}, headers=headers)
    assert renamed.status_code == 200, renamed.text
    promoted = await client.patch(
        f"{workspace_url}/members/{team.member.id}", json={"role": "admin"}, headers=headers
    )
    assert promoted.status_code == 200, promoted.text
    invited = await client.post(
        f"{workspace_url}/invitations",
        json={"email": "new@example.com", "role": "member"},
        headers=headers,
    )
    assert invited.status_code == 201, invited.text
    joined = await client.post(
        f"{workspace_url}/projects/{project.id}/members",
        json={"user_id": str(team.admin.id)},
        headers=headers,
    )
    assert joined.status_code == 201, joined.text
    left = await client.delete(
        f"{workspace_url}/projects/{project.id}/members/{team.admin.id}", headers=headers
    )
    assert left.status_code == 204, left.text
    rejoined = await client.post(
        f"{workspace_url}/projects/{project.id}/members",
        json={"user_id": str(team.member.id)},
        headers=headers,
    )
    assert rejoined.status_code == 201, rejoined.text
    removed = await client.delete(f"{workspace_url}/members/{team.member.id}", headers=headers)
    assert removed.status_code == 204, removed.text

    types = [event["type"] for event in await read_events(client, team)]
    assert types == [
        "task.created",
        "workspace.updated",
        "member.updated",
        "invitation.created",
        "project_member.created",
        "project_member.deleted",
        "project_member.created",
        # Removing a member takes them off their projects first, each an event.
        "project_member.deleted",
        "member.deleted",
    ]
    member_events = await events_of(client, team, team.member.id)
    assert [event["type"] for event in member_events] == ["member.updated", "member.deleted"]
    assert member_events[0]["data"]["previous"] == {"role": "member"}
    workspace_event = (await read_events(client, team, type="workspace.*"))[0]
    assert workspace_event["data"]["previous"] == {"name": team.workspace.name}


async def test_a_refused_change_has_no_event(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    team.workspace.prevent_overlaps = True
    await make_entry(session, team.workspace, team.member)
    await session.flush()
    clash = await client.post(
        entries_url(team.workspace),
        json={"start_at": "2024-04-22T09:30:00Z", "end_at": "2024-04-22T11:00:00Z"},
        headers=auth_headers(team.member),
    )
    assert clash.status_code == 409, clash.text
    forbidden = await client.post(
        f"/api/v1/workspaces/{team.workspace.id}/tags",
        json={"name": "members cannot"},
        headers=auth_headers(team.member),
    )
    assert forbidden.status_code == 403
    assert await read_events(client, team) == []


async def test_bulk_changes_record_one_event_per_entry_that_changed(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    team.workspace.prevent_overlaps = True
    day = datetime(2024, 4, 22, 9, tzinfo=UTC)
    first = await make_entry(session, team.workspace, team.member, start_at=day)
    second = await make_entry(
        session, team.workspace, team.member, start_at=day + timedelta(hours=2)
    )
    # Both move to 9:30: the first moves inside its own hour, the third would overlap it.
    third = await make_entry(
        session, team.workspace, team.member, start_at=day + timedelta(hours=1)
    )
    await session.flush()
    response = await client.patch(
        entries_url(team.workspace),
        json={
            "ids": [str(first.id), str(third.id)],
            "changes": {"start_at": "2024-04-22T09:30:00Z"},
        },
        headers=auth_headers(team.admin),
    )
    assert response.status_code == 200, response.text
    found = await read_events(client, team, type="time_entry.updated")
    statuses = {r["id"]: r["status"] for r in response.json()["results"]}
    assert statuses == {str(first.id): 200, str(third.id): 409}
    assert [event["subject"]["id"] for event in found] == [str(first.id)]

    deleted = await client.delete(
        entries_url(team.workspace),
        params={"ids": [str(first.id), str(second.id)]},
        headers=auth_headers(team.admin),
    )
    assert deleted.status_code == 200, deleted.text
    found = await read_events(client, team, type="time_entry.deleted")
    assert sorted(event["subject"]["id"] for event in found) == sorted(
        [str(first.id), str(second.id)]
    )


async def test_an_import_records_one_summary_event_not_one_per_row(
    app: FastAPI, client: AsyncClient, team: Team
) -> None:
    csv = (
        "User,Email,Client,Project,Task,Description,Billable,Start date,Start time,"
        "End date,End time,Duration,Tags\n"
        f"Ada,{team.member.email},,Apollo,,first,No,2024-04-22,09:00:00,2024-04-22,10:00:00,"
        "01:00:00,\n"
        f"Ada,{team.member.email},,Apollo,,second,No,2024-04-22,10:00:00,2024-04-22,11:00:00,"
        "01:00:00,\n"
        "Ada,nobody@example.com,,Apollo,,bad,No,2024-04-22,10:00:00,2024-04-22,11:00:00,01:00:00,\n"
    )
    response = await client.post(
        f"/api/v1/workspaces/{team.workspace.id}/imports",
        data={"format": "toggl_csv", "timezone": "UTC"},
        files={"file": ("toggl.csv", io.BytesIO(csv.encode()), "text/csv")},
        headers=auth_headers(team.admin),
    )
    await finished_run(app, client, response, auth_headers(team.admin))
    found = await read_events(client, team)
    assert [event["type"] for event in found] == ["project.created", "import.completed"]
    summary = found[-1]
    assert summary["origin"] == "import"
    assert summary["subject"] == {"type": "import", "id": response.json()["id"]}
    assert summary["data"]["object"] | {"id": None} == {
        "id": None,
        "format": "toggl_csv",
        "rows": 3,
        "created": 2,
        "duplicates": 0,
        "failed": 1,
    }


async def test_a_dry_run_import_records_nothing(
    app: FastAPI, client: AsyncClient, team: Team
) -> None:
    csv = (
        "User,Email,Client,Project,Task,Description,Billable,Start date,Start time,"
        "End date,End time,Duration,Tags\n"
        f"Ada,{team.member.email},,Apollo,,first,No,2024-04-22,09:00:00,2024-04-22,10:00:00,"
        "01:00:00,\n"
    )
    response = await client.post(
        f"/api/v1/workspaces/{team.workspace.id}/imports",
        data={"format": "toggl_csv", "timezone": "UTC", "dry_run": "true"},
        files={"file": ("toggl.csv", io.BytesIO(csv.encode()), "text/csv")},
        headers=auth_headers(team.admin),
    )
    await finished_run(app, client, response, auth_headers(team.admin))
    assert await read_events(client, team) == []


async def test_members_read_their_own_entries_and_the_catalog_they_can_see(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    private = await make_project(session, team.workspace, visibility=ProjectVisibility.PRIVATE)
    theirs = await make_project(session, team.workspace, visibility=ProjectVisibility.PRIVATE)
    await make_project_member(session, theirs, team.member)
    await session.flush()
    admin = auth_headers(team.admin)
    workspace_url = f"/api/v1/workspaces/{team.workspace.id}"
    for project in (private, theirs):
        response = await client.post(
            f"{workspace_url}/tasks",
            json={"name": "Task", "project_id": str(project.id)},
            headers=admin,
        )
        assert response.status_code == 201, response.text
    await client.post(f"{workspace_url}/clients", json={"name": "Acme"}, headers=admin)
    await client.patch(
        f"{workspace_url}/members/{team.member.id}", json={"hourly_rate_cents": 9000}, headers=admin
    )
    for user in (team.member, team.admin):
        response = await client.post(
            entries_url(team.workspace),
            json={"start_at": iso(9), "end_at": iso(10), "user_id": str(user.id)},
            headers=admin,
        )
        assert response.status_code == 201, response.text

    seen = await read_events(client, team, reader=team.member)
    assert sorted(event["type"] for event in seen) == [
        "client.created",
        "task.created",
        "time_entry.created",
    ]
    task_event = next(event for event in seen if event["type"] == "task.created")
    assert task_event["data"]["object"]["project_id"] == str(theirs.id)
    entry_event = next(event for event in seen if event["type"] == "time_entry.created")
    assert entry_event["data"]["object"]["user_id"] == str(team.member.id)
    # Rates are hidden from members here, in events too.
    assert entry_event["data"]["object"]["hourly_rate_cents"] is None
    assert len(await read_events(client, team)) == 6


async def test_a_new_entry_event_holds_every_column_as_stored(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    """A new entry is inserted by a statement of its own, not flushed: its event still holds
    every column as the database stored it, as a flushed row's event does."""
    project = await make_project(session, team.workspace, hourly_rate_cents=4000, is_billable=True)
    tag = await make_tag(session, team.workspace)
    await session.flush()
    body = {"start_at": iso(9), "project_id": str(project.id), "tag_ids": [str(tag.id)]}
    response = await client.post(
        entries_url(team.workspace), json=body, headers=auth_headers(team.admin)
    )
    assert response.status_code == 201, response.text
    [created] = await events_of(client, team, response.json()["id"])
    assert created["type"] == "timer.started"
    stored = await session.get(TimeEntry, uuid.UUID(response.json()["id"]))
    assert stored is not None
    hidden = TimeEntry.__event_subject__.hidden
    columns = {column.key for column in TimeEntry.__table__.c} - hidden
    expected = {key: jsonable(getattr(stored, key)) for key in columns}
    assert created["data"]["object"] == {**expected, "tag_ids": [str(tag.id)]}
    assert expected["hourly_rate_cents"] == 4000 and expected["version"] == 1


async def test_rates_show_in_events_to_whoever_sees_rates(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    project = await make_project(session, team.workspace, hourly_rate_cents=5000, is_billable=True)
    await session.flush()
    response = await client.post(
        entries_url(team.workspace),
        json={"start_at": iso(9), "end_at": iso(10), "project_id": str(project.id)},
        headers=auth_headers(team.admin),
    )
    assert response.status_code == 201, response.text
    created = (await read_events(client, team, type="time_entry.created"))[0]
    assert created["data"]["object"]["hourly_rate_cents"] == 5000


async def test_outsiders_get_404_and_filters_narrow_the_log(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    outsider = await client.get(events_url(team), headers=auth_headers(team.outsider))
    assert outsider.status_code == 404
    headers = auth_headers(team.admin)
    base = f"/api/v1/workspaces/{team.workspace.id}"
    client_row = (
        await client.post(f"{base}/clients", json={"name": "Acme"}, headers=headers)
    ).json()
    await client.post(f"{base}/tags", json={"name": "urgent"}, headers=auth_headers(team.owner))
    await client.post(
        entries_url(team.workspace), json={"start_at": iso(9), "end_at": iso(10)}, headers=headers
    )

    assert [e["type"] for e in await read_events(client, team, type="client.*")] == [
        "client.created"
    ]
    both = await read_events(client, team, type=["client.created", "tag.*"])
    assert [e["type"] for e in both] == ["client.created", "tag.created"]
    assert len(await read_events(client, team, type="*")) == 3
    by_owner = await read_events(client, team, actor_id=str(team.owner.id))
    assert [e["type"] for e in by_owner] == ["tag.created"]
    assert [e["subject"]["id"] for e in await events_of(client, team, client_row["id"])] == [
        client_row["id"]
    ]
    every = await read_events(client, team)
    after_first = await read_events(client, team, after=every[0]["sequence"])
    assert after_first == every[1:]
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert await read_events(client, team, **{"from": future}) == []
    assert len(await read_events(client, team, to=future)) == 3

    newest_first = await client.get(events_url(team), params={"limit": 2}, headers=headers)
    page = newest_first.json()
    assert [e["sequence"] for e in page["items"]] == [every[2]["sequence"], every[1]["sequence"]]
    rest = await client.get(
        events_url(team), params={"limit": 2, "cursor": page["next_cursor"]}, headers=headers
    )
    assert [e["sequence"] for e in rest.json()["items"]] == [every[0]["sequence"]]

    bad = await client.get(events_url(team), params={"type": "time_entry.%"}, headers=headers)
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")


async def test_pruning_removes_events_past_retention(session: AsyncSession, team: Team) -> None:
    await make_client(session, team.workspace)
    await make_tag(session, team.workspace)
    # Committed into the test's own transaction: the events are written.
    await session.commit()
    catalog = (Event.workspace_id == team.workspace.id, Event.subject_type.in_(["client", "tag"]))
    count = select(func.count()).select_from(Event).where(*catalog)
    assert await session.scalar(count) == 2
    first = await session.scalar(select(Event.id).where(*catalog).order_by(Event.sequence))
    old = datetime.now(UTC) - timedelta(days=401)
    await session.execute(update(Event).where(Event.id == first).values(occurred_at=old))
    removed = await EventRetention(session).prune(datetime.now(UTC) - timedelta(days=400))
    assert removed == 1
    assert await session.scalar(count) == 1


@pytest.mark.committed
async def test_a_rolled_back_unit_of_work_leaves_no_event(
    sessionmaker: async_sessionmaker[AsyncSession], committed_team: Team, sessions: Any
) -> None:
    team = committed_team
    with pytest.raises(RuntimeError):
        async with UnitOfWork(sessions) as uow:
            await make_tag(uow.session, team.workspace)
            raise RuntimeError("refused after the write")
    async with UnitOfWork(sessions) as uow:
        await make_task(uow.session, await make_project(uow.session, team.workspace))
    async with sessionmaker() as session:
        types = await session.scalars(
            select(Event.type)
            .where(Event.workspace_id == team.workspace.id, Event.origin == EventOrigin.CLI)
            .where(Event.subject_type.in_(["tag", "project", "task"]))
            .order_by(Event.sequence)
        )
        assert list(types) == ["project.created", "task.created"]


@pytest.mark.committed
@pytest.mark.postgres_only
async def test_a_reader_following_thirty_writers_skips_nothing_and_sees_nothing_twice(
    client: AsyncClient, committed_team: Team
) -> None:
    team = committed_team
    writers = 30
    writes_each = 4
    headers = auth_headers(team.admin)
    seen: list[int] = []
    done = asyncio.Event()

    async def write(n: int) -> None:
        for k in range(writes_each):
            response = await client.post(
                f"/api/v1/workspaces/{team.workspace.id}/tags",
                json={"name": f"tag {n}-{k}"},
                headers=headers,
            )
            assert response.status_code == 201, response.text

    async def follow(last: int) -> None:
        while True:
            finished = done.is_set()
            found = await read_events(client, team, after=last)
            for event in found:
                assert event["sequence"] == last + 1, (last, event["sequence"])
                seen.append(event["sequence"])
                last = event["sequence"]
            if finished and not found:
                return
            await asyncio.sleep(0)

    start = await read_events(client, team, order="-sequence", limit=1)
    first = start[0]["sequence"] + 1 if start else 1
    reader = asyncio.create_task(follow(first - 1))
    await asyncio.gather(*(write(n) for n in range(writers)))
    done.set()
    await reader
    assert seen == list(range(first, first + writers * writes_each))
