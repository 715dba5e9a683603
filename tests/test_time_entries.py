"""Time entries: writing, the rules an entry obeys, permissions, rates and ETags."""

import uuid
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Membership, TimeEntry
from app.db.types import utcnow
from app.enums import ProjectVisibility
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
from tests.tracking import at, entries_url, iso

PROBLEM = "application/problem+json"


async def stored(session: AsyncSession, entry_id: str) -> TimeEntry:
    statement = (
        select(TimeEntry)
        .where(TimeEntry.id == uuid.UUID(entry_id))
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(statement)).one()


async def test_create_a_finished_entry_and_read_it(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    project = await make_project(session, team.workspace, is_billable=True)
    task = await make_task(session, project)
    tags = [await make_tag(session, team.workspace) for _ in range(2)]
    headers = auth_headers(team.member)
    body = {
        "start_at": "2024-04-22T11:00:00+02:00",
        "end_at": "2024-04-22T12:30:00+02:00",
        "project_id": str(project.id),
        "task_id": str(task.id),
        "tag_ids": [str(tags[1].id), str(tags[0].id), str(tags[1].id)],
        "description": "  Design review ",
    }
    created = await client.post(entries_url(team.workspace), json=body, headers=headers)
    assert created.status_code == 201, created.text
    entry = created.json()
    assert created.headers["etag"] == '"1"'
    assert entry["start_at"] == "2024-04-22T09:00:00Z"
    assert entry["end_at"] == "2024-04-22T10:30:00Z"
    assert entry["duration_seconds"] == 5400
    assert entry["user_id"] == str(team.member.id)
    assert entry["workspace_id"] == str(team.workspace.id)
    assert entry["project_id"] == str(project.id) and entry["task_id"] == str(task.id)
    assert sorted(entry["tag_ids"]) == sorted(str(tag.id) for tag in tags)
    assert entry["description"] == "Design review"
    assert entry["billable"] is True  # the project's default
    assert entry["source"] == "manual"
    assert entry["version"] == 1 and entry["deleted_at"] is None

    read = await client.get(f"{entries_url(team.workspace)}/{entry['id']}", headers=headers)
    assert read.status_code == 200
    assert read.headers["etag"] == '"1"'
    assert read.json() == entry


async def test_entries_written_with_a_personal_api_token_say_so(
    client: AsyncClient, team: Team
) -> None:
    issued = await client.post(
        "/api/v1/users/me/tokens", json={"name": "sync script"}, headers=auth_headers(team.member)
    )
    assert issued.status_code == 201, issued.text
    script = {"Authorization": f"Bearer {issued.json()['token']}"}
    body = {"start_at": iso(9), "end_at": iso(10)}
    by_script = await client.post(entries_url(team.workspace), json=body, headers=script)
    assert by_script.status_code == 201, by_script.text
    assert by_script.json()["source"] == "api"
    body = {"start_at": iso(11), "end_at": iso(12)}
    by_person = await client.post(
        entries_url(team.workspace), json=body, headers=auth_headers(team.member)
    )
    assert by_person.json()["source"] == "manual"


async def test_create_a_running_entry(client: AsyncClient, team: Team) -> None:
    headers = auth_headers(team.member)
    started = utcnow().replace(microsecond=0)
    response = await client.post(
        entries_url(team.workspace),
        json={"start_at": started.isoformat(), "description": "on it"},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    entry = response.json()
    assert entry["end_at"] is None and entry["source"] == "timer"
    assert entry["billable"] is False and entry["hourly_rate_cents"] is None
    assert 0 <= entry["duration_seconds"] < 60

    second = await client.post(
        entries_url(team.workspace), json={"start_at": started.isoformat()}, headers=headers
    )
    assert second.status_code == 409
    assert second.headers["content-type"] == PROBLEM
    assert "running" in second.json()["detail"]


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"start_at": "2024-04-22T09:00:00", "end_at": iso(10)}, ["body", "start_at"]),
        ({"start_at": iso(9), "end_at": "2024-04-22T10:00:00"}, ["body", "end_at"]),
        ({"start_at": iso(9), "end_at": iso(9)}, ["body", "end_at"]),
        ({"start_at": iso(9), "end_at": iso(8)}, ["body", "end_at"]),
        (
            {"start_at": iso(9), "end_at": iso(10), "description": "x" * 5001},
            ["body", "description"],
        ),
        ({"start_at": iso(9), "project_id": str(uuid.uuid4())}, ["body", "project_id"]),
        ({"start_at": iso(9), "task_id": str(uuid.uuid4())}, ["body", "task_id"]),
        ({"start_at": iso(9), "tag_ids": [str(uuid.uuid4())]}, ["body", "tag_ids", 0]),
        ({"start_at": iso(9), "user_id": str(uuid.uuid4())}, ["body", "user_id"]),
        ({"start_at": iso(9), "hourly_rate_cents": 100}, ["body", "hourly_rate_cents"]),
        ({"start_at": iso(9), "source": "import"}, ["body", "source"]),
        ({"start_at": iso(9), "version": 3}, ["body", "version"]),
        ({"end_at": iso(9)}, ["body", "start_at"]),
        ({"start_at": "2999-01-01T00:00:00Z"}, ["body", "start_at"]),
    ],
    ids=[
        "naive-start",
        "naive-end",
        "end-at-start",
        "end-before-start",
        "long-description",
        "unknown-project",
        "unknown-task",
        "unknown-tag",
        "unknown-user",
        "rate",
        "source",
        "version",
        "no-start",
        "running-in-the-future",
    ],
)
async def test_invalid_entries_are_422_problems(
    client: AsyncClient, team: Team, body: dict[str, Any], loc: list[Any]
) -> None:
    response = await client.post(
        entries_url(team.workspace), json=body, headers=auth_headers(team.admin)
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == 422 and problem["detail"]
    assert loc in [error["loc"] for error in problem["errors"]]


async def test_ids_of_another_workspace_are_never_accepted(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    foreign_project = await make_project(session, team.other_workspace)
    foreign_task = await make_task(session, foreign_project)
    foreign_tag = await make_tag(session, team.other_workspace)
    foreign_entry = await make_entry(session, team.other_workspace, team.outsider)
    headers = auth_headers(team.owner)
    url = entries_url(team.workspace)
    for field, value in [
        ("project_id", str(foreign_project.id)),
        ("task_id", str(foreign_task.id)),
        ("tag_ids", [str(foreign_tag.id)]),
        ("user_id", str(team.outsider.id)),
    ]:
        body = {"start_at": iso(9), "end_at": iso(10), field: value}
        response = await client.post(url, json=body, headers=headers)
        assert response.status_code == 422, (field, response.text)
        assert response.json()["errors"][0]["loc"][:2] == ["body", field]

    own = await make_entry(session, team.workspace, team.owner)
    patched = await client.patch(
        f"{url}/{own.id}", json={"project_id": str(foreign_project.id)}, headers=headers
    )
    assert patched.status_code == 422

    entry_url = f"{url}/{foreign_entry.id}"
    assert (await client.get(entry_url, headers=headers)).status_code == 404
    assert (await client.patch(entry_url, json={}, headers=headers)).status_code == 404
    assert (await client.delete(entry_url, headers=headers)).status_code == 404
    assert (await client.post(f"{entry_url}/restore", headers=headers)).status_code == 404
    # The same entry through its own workspace's path, by someone outside it.
    other_url = f"{entries_url(team.other_workspace)}/{foreign_entry.id}"
    assert (await client.get(other_url, headers=headers)).status_code == 404
    assert (await client.get(entries_url(team.other_workspace), headers=headers)).status_code == 404


async def test_outsiders_get_404_everywhere(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    entry = await make_entry(session, team.workspace, team.member)
    headers = auth_headers(team.outsider)
    url = entries_url(team.workspace)
    body = {"start_at": iso(9), "end_at": iso(10)}
    for response in [
        await client.get(url, headers=headers),
        await client.post(url, json=body, headers=headers),
        await client.get(f"{url}/{entry.id}", headers=headers),
        await client.patch(f"{url}/{entry.id}", json={"description": "x"}, headers=headers),
        await client.delete(f"{url}/{entry.id}", headers=headers),
        await client.post(f"{url}/{entry.id}/restore", headers=headers),
        await client.patch(url, json={"ids": [str(entry.id)], "changes": {}}, headers=headers),
        await client.delete(url, params={"ids": [str(entry.id)]}, headers=headers),
    ]:
        assert response.status_code == 404
        assert response.headers["content-type"] == PROBLEM
    assert (await client.get(url)).status_code == 401


async def test_a_task_brings_its_project_and_must_match_it(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    project, other = (
        await make_project(session, team.workspace),
        await make_project(session, team.workspace),
    )
    task = await make_task(session, project)
    other_task = await make_task(session, other)
    headers = auth_headers(team.member)
    url = entries_url(team.workspace)
    base = {"start_at": iso(9), "end_at": iso(10)}

    derived = await client.post(url, json={**base, "task_id": str(task.id)}, headers=headers)
    assert derived.status_code == 201
    assert derived.json()["project_id"] == str(project.id)

    mismatch = {**base, "project_id": str(other.id), "task_id": str(task.id)}
    response = await client.post(url, json=mismatch, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "task_id"]
    no_project = {**base, "project_id": None, "task_id": str(task.id)}
    assert (await client.post(url, json=no_project, headers=headers)).status_code == 422

    entry_url = f"{url}/{derived.json()['id']}"
    moved = await client.patch(entry_url, json={"project_id": str(other.id)}, headers=headers)
    assert moved.status_code == 200
    assert moved.json()["project_id"] == str(other.id) and moved.json()["task_id"] is None

    by_task = await client.patch(entry_url, json={"task_id": str(task.id)}, headers=headers)
    assert by_task.json()["project_id"] == str(project.id)
    assert by_task.json()["task_id"] == str(task.id)
    wrong = await client.patch(
        entry_url,
        json={"project_id": str(project.id), "task_id": str(other_task.id)},
        headers=headers,
    )
    assert wrong.status_code == 422

    cleared = await client.patch(entry_url, json={"project_id": None}, headers=headers)
    assert cleared.json()["project_id"] is None and cleared.json()["task_id"] is None


async def test_deleted_references_are_422(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    project = await make_project(session, team.workspace, deleted_at=utcnow())
    live_project = await make_project(session, team.workspace)
    task = await make_task(session, live_project, deleted_at=utcnow())
    tag = await make_tag(session, team.workspace, deleted_at=utcnow())
    headers = auth_headers(team.admin)
    base = {"start_at": iso(9), "end_at": iso(10)}
    for field, value in [
        ("project_id", str(project.id)),
        ("task_id", str(task.id)),
        ("tag_ids", [str(tag.id)]),
    ]:
        response = await client.post(
            entries_url(team.workspace), json={**base, field: value}, headers=headers
        )
        assert response.status_code == 422, field
        assert response.json()["errors"][0]["loc"][:2] == ["body", field]


async def test_private_projects_take_time_from_their_members_and_admins(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    private = await make_project(session, team.workspace, visibility=ProjectVisibility.PRIVATE)
    body = {"start_at": iso(9), "end_at": iso(10), "project_id": str(private.id)}
    url = entries_url(team.workspace)

    refused = await client.post(url, json=body, headers=auth_headers(team.member))
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["loc"] == ["body", "project_id"]
    assert (await client.post(url, json=body, headers=auth_headers(team.admin))).status_code == 201

    await make_project_member(session, private, team.member)
    allowed = await client.post(
        url,
        json={**body, "start_at": iso(11), "end_at": iso(12)},
        headers=auth_headers(team.member),
    )
    assert allowed.status_code == 201


async def test_archived_projects_and_clients_take_no_new_time(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    archived = await make_project(session, team.workspace, archived_at=utcnow())
    archived_client = await make_client(session, team.workspace, archived_at=utcnow())
    of_archived_client = await make_project(session, team.workspace, client_id=archived_client.id)
    live = await make_project(session, team.workspace)
    headers = auth_headers(team.member)
    url = entries_url(team.workspace)
    base = {"start_at": iso(9), "end_at": iso(10)}
    for project in (archived, of_archived_client):
        response = await client.post(
            url, json={**base, "project_id": str(project.id)}, headers=headers
        )
        assert response.status_code == 409
        assert "archived" in response.json()["detail"]

    entry = await make_entry(session, team.workspace, team.member, project_id=archived.id)
    edited = await client.patch(f"{url}/{entry.id}", json={"description": "notes"}, headers=headers)
    assert edited.status_code == 200  # old time on an archived project stays editable
    other = await make_entry(session, team.workspace, team.member, project_id=live.id)
    moved = await client.patch(
        f"{url}/{other.id}", json={"project_id": str(archived.id)}, headers=headers
    )
    assert moved.status_code == 409


async def test_rate_snapshot_follows_the_chain(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    """Project member rate, then project rate, then membership rate, then workspace default."""
    team.workspace.default_hourly_rate_cents = 1000
    member_row = (
        await session.scalars(
            select(Membership).where(
                Membership.workspace_id == team.workspace.id, Membership.user_id == team.member.id
            )
        )
    ).one()
    plain = await make_project(session, team.workspace, is_billable=True)
    priced = await make_project(session, team.workspace, is_billable=True, hourly_rate_cents=3000)
    await make_project_member(session, priced, team.member, hourly_rate_cents=4000)
    await make_project_member(session, priced, team.admin)  # no own rate: the project's applies
    await session.flush()
    url = entries_url(team.workspace)
    headers = auth_headers(team.admin)

    async def rate_of(day: int, **body: Any) -> int | None:
        body = {
            "start_at": iso(9, day),
            "end_at": iso(10, day),
            "user_id": str(team.member.id),
            **body,
        }
        response = await client.post(url, json=body, headers=headers)
        assert response.status_code == 201, response.text
        return response.json()["hourly_rate_cents"]

    assert await rate_of(0, billable=True) == 1000  # workspace default
    member_row.hourly_rate_cents = 2000
    await session.flush()
    assert await rate_of(1, billable=True) == 2000  # membership
    assert await rate_of(2, project_id=str(plain.id)) == 2000
    assert await rate_of(3, project_id=str(priced.id)) == 4000  # project member
    assert await rate_of(4, project_id=str(priced.id), user_id=str(team.admin.id)) == 3000
    assert await rate_of(5, project_id=str(priced.id), billable=False) is None

    entry_id = (await client.get(url, headers=headers, params={"limit": 1})).json()["items"][0][
        "id"
    ]
    entry_url = f"{url}/{entry_id}"
    billable = await client.patch(entry_url, json={"billable": True}, headers=headers)
    assert billable.json()["hourly_rate_cents"] == 4000
    moved = await client.patch(entry_url, json={"project_id": str(plain.id)}, headers=headers)
    assert moved.json()["hourly_rate_cents"] == 2000
    reassigned = await client.patch(
        entry_url, json={"user_id": str(team.owner.id)}, headers=headers
    )
    assert reassigned.json()["hourly_rate_cents"] == 1000
    # A snapshot: changing the rates later leaves written entries alone.
    member_row.hourly_rate_cents = 9999
    await session.flush()
    described = await client.patch(entry_url, json={"description": "x"}, headers=headers)
    assert described.json()["hourly_rate_cents"] == 1000


async def test_rates_are_hidden_from_members_unless_the_workspace_shows_them(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    team.workspace.default_hourly_rate_cents = 1500
    await session.flush()
    headers = auth_headers(team.member)
    body = {"start_at": iso(9), "end_at": iso(10), "billable": True}
    created = await client.post(entries_url(team.workspace), json=body, headers=headers)
    assert created.json()["hourly_rate_cents"] is None
    assert (await stored(session, created.json()["id"])).hourly_rate_cents == 1500
    listed = await client.get(entries_url(team.workspace), headers=headers)
    assert listed.json()["items"][0]["hourly_rate_cents"] is None
    as_admin = await client.get(entries_url(team.workspace), headers=auth_headers(team.admin))
    assert as_admin.json()["items"][0]["hourly_rate_cents"] == 1500

    team.workspace.members_can_see_rates = True
    await session.flush()
    shown = await client.get(
        f"{entries_url(team.workspace)}/{created.json()['id']}", headers=headers
    )
    assert shown.json()["hourly_rate_cents"] == 1500


async def test_members_see_and_touch_only_their_own_entries(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    mine = await make_entry(session, team.workspace, team.member, start_at=at(9))
    theirs = await make_entry(session, team.workspace, team.admin, start_at=at(11))
    headers = auth_headers(team.member)
    url = entries_url(team.workspace)

    listed = await client.get(url, headers=headers, params={"user_id": str(team.admin.id)})
    assert listed.json()["items"] == []
    listed = await client.get(url, headers=headers)
    assert [item["id"] for item in listed.json()["items"]] == [str(mine.id)]

    other_url = f"{url}/{theirs.id}"
    assert (await client.get(other_url, headers=headers)).status_code == 404
    patched = await client.patch(other_url, json={"description": "x"}, headers=headers)
    assert patched.status_code == 404
    assert (await client.delete(other_url, headers=headers)).status_code == 404

    for_someone = {"start_at": iso(13), "end_at": iso(14), "user_id": str(team.admin.id)}
    refused = await client.post(url, json=for_someone, headers=headers)
    assert refused.status_code == 403 and refused.headers["content-type"] == PROBLEM
    handed_over = await client.patch(
        f"{url}/{mine.id}", json={"user_id": str(team.admin.id)}, headers=headers
    )
    assert handed_over.status_code == 403
    for_self = {**for_someone, "user_id": str(team.member.id)}
    assert (await client.post(url, json=for_self, headers=headers)).status_code == 201


async def test_admins_write_everyones_entries(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    entry = await make_entry(session, team.workspace, team.member)
    headers = auth_headers(team.admin)
    url = entries_url(team.workspace)
    created = await client.post(
        url,
        json={"start_at": iso(12), "end_at": iso(13), "user_id": str(team.member.id)},
        headers=headers,
    )
    assert created.status_code == 201 and created.json()["user_id"] == str(team.member.id)
    edited = await client.patch(f"{url}/{entry.id}", json={"description": "fixed"}, headers=headers)
    assert edited.status_code == 200 and edited.json()["description"] == "fixed"
    reassigned = await client.patch(
        f"{url}/{entry.id}", json={"user_id": str(team.owner.id)}, headers=headers
    )
    assert reassigned.json()["user_id"] == str(team.owner.id)
    stranger = await client.patch(
        f"{url}/{entry.id}", json={"user_id": str(team.outsider.id)}, headers=headers
    )
    assert stranger.status_code == 422
    assert (
        await client.delete(f"{url}/{created.json()['id']}", headers=headers)
    ).status_code == 204


async def test_time_runs_only_for_current_members(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    """A former member's entries stay editable; no new time of theirs lands here, and none of
    theirs runs here again."""
    finished = await make_entry(session, team.workspace, team.member, start_at=at(9))
    deleted_running = await make_entry(
        session, team.workspace, team.member, start_at=at(12), end_at=None, deleted_at=utcnow()
    )
    membership = (
        await session.scalars(
            select(Membership).where(
                Membership.workspace_id == team.workspace.id,
                Membership.user_id == team.member.id,
            )
        )
    ).one()
    await session.delete(membership)
    await session.flush()
    headers = auth_headers(team.admin)
    url = entries_url(team.workspace)

    created = await client.post(
        url,
        json={"user_id": str(team.member.id), "start_at": iso(14), "end_at": iso(15)},
        headers=headers,
    )
    assert created.status_code == 422
    assert created.json()["errors"][0]["loc"] == ["body", "user_id"]
    edited = await client.patch(
        f"{url}/{finished.id}", json={"description": "kept"}, headers=headers
    )
    assert edited.status_code == 200
    restored = await client.post(f"{url}/{deleted_running.id}/restore", headers=headers)
    assert restored.status_code == 409
    running = select(TimeEntry.id).where(
        TimeEntry.user_id == team.member.id,
        TimeEntry.end_at.is_(None),
        TimeEntry.deleted_at.is_(None),
    )
    assert (await session.scalars(running)).all() == []


async def test_update_checks_times_and_never_takes_null_for_required_fields(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    entry = await make_entry(session, team.workspace, team.member, start_at=at(9))
    headers = auth_headers(team.member)
    url = f"{entries_url(team.workspace)}/{entry.id}"
    early_end = await client.patch(url, json={"end_at": iso(8)}, headers=headers)
    assert early_end.status_code == 422
    assert early_end.json()["errors"][0]["loc"] == ["body", "end_at"]
    late_start = await client.patch(url, json={"start_at": iso(10)}, headers=headers)
    assert late_start.json()["errors"][0]["loc"] == ["body", "start_at"]
    for field in ("start_at", "end_at", "description", "billable", "tag_ids"):
        response = await client.patch(url, json={field: None}, headers=headers)
        assert response.status_code == 422, field
    moved = await client.patch(url, json={"start_at": iso(7), "end_at": iso(8)}, headers=headers)
    assert moved.status_code == 200 and moved.json()["duration_seconds"] == 3600


async def test_setting_end_at_stops_a_running_entry(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    running = await make_entry(session, team.workspace, team.member, start_at=at(9), end_at=None)
    url = f"{entries_url(team.workspace)}/{running.id}"
    headers = auth_headers(team.member)
    assert (await client.patch(url, json={"end_at": iso(9)}, headers=headers)).status_code == 422
    stopped = await client.patch(url, json={"end_at": iso(10)}, headers=headers)
    assert stopped.status_code == 200
    assert stopped.json()["end_at"] == "2024-04-22T10:00:00Z"
    assert stopped.json()["duration_seconds"] == 3600


async def test_etags_deletion_and_restore(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    tag = await make_tag(session, team.workspace)
    entry = await make_entry(session, team.workspace, team.member)
    headers = auth_headers(team.member)
    url = f"{entries_url(team.workspace)}/{entry.id}"

    stale = await client.patch(
        url, json={"description": "x"}, headers={**headers, "If-Match": '"9"'}
    )
    assert stale.status_code == 412 and stale.headers["content-type"] == PROBLEM
    fresh = await client.patch(
        url, json={"description": "x"}, headers={**headers, "If-Match": '"1"'}
    )
    assert fresh.status_code == 200 and fresh.headers["etag"] == '"2"'

    before = fresh.json()["updated_at"]
    tagged = await client.patch(url, json={"tag_ids": [str(tag.id)]}, headers=headers)
    assert tagged.json()["tag_ids"] == [str(tag.id)]
    assert tagged.headers["etag"] == '"3"' and tagged.json()["updated_at"] > before
    same_tags = await client.patch(url, json={"tag_ids": [str(tag.id)]}, headers=headers)
    assert same_tags.headers["etag"] == '"3"'

    assert (await client.delete(url, headers={**headers, "If-Match": '"2"'})).status_code == 412
    assert (await client.delete(url, headers={**headers, "If-Match": '"3"'})).status_code == 204
    gone = await client.get(url, headers=headers)
    assert gone.status_code == 200 and gone.json()["deleted_at"] is not None
    assert (await client.patch(url, json={"description": "y"}, headers=headers)).status_code == 404
    assert (await client.delete(url, headers=headers)).status_code == 404

    restored = await client.post(f"{url}/restore", headers=headers)
    assert restored.status_code == 200
    assert restored.json()["deleted_at"] is None and restored.json()["tag_ids"] == [str(tag.id)]
    again = await client.post(f"{url}/restore", headers=headers)
    assert again.status_code == 200 and again.json()["version"] == restored.json()["version"]


async def test_restoring_a_running_entry_while_another_runs_is_409(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    old = await make_entry(
        session, team.workspace, team.member, start_at=at(9), end_at=None, deleted_at=utcnow()
    )
    await make_entry(session, team.workspace, team.member, start_at=at(12), end_at=None)
    response = await client.post(
        f"{entries_url(team.workspace)}/{old.id}/restore", headers=auth_headers(team.member)
    )
    assert response.status_code == 409


class TestPreventOverlaps:
    @pytest.fixture(autouse=True)
    async def _forbid_overlaps(self, session: AsyncSession, team: Team) -> None:
        team.workspace.prevent_overlaps = True
        await session.flush()

    async def test_overlaps_are_409_and_touching_is_fine(
        self, client: AsyncClient, session: AsyncSession, team: Team
    ) -> None:
        existing = await make_entry(
            session, team.workspace, team.member, start_at=at(9), end_at=at(10)
        )
        url = entries_url(team.workspace)
        headers = auth_headers(team.member)
        for start, end in [(8.5, 9.5), (9.5, 9.75), (9.5, 11), (8, 12)]:
            body = {"start_at": iso(start), "end_at": iso(end)}
            response = await client.post(url, json=body, headers=headers)
            assert response.status_code == 409, (start, end)
            assert str(existing.id) in response.json()["detail"]
        for start, end in [(8, 9), (10, 11)]:
            body = {"start_at": iso(start), "end_at": iso(end)}
            assert (await client.post(url, json=body, headers=headers)).status_code == 201
        # Other people's time does not count.
        admin_body = {"start_at": iso(9), "end_at": iso(10)}
        assert (
            await client.post(url, json=admin_body, headers=auth_headers(team.admin))
        ).status_code == 201

    async def test_running_entries_last_forever(
        self, client: AsyncClient, session: AsyncSession, team: Team
    ) -> None:
        running = await make_entry(
            session, team.workspace, team.member, start_at=at(9), end_at=None
        )
        url = entries_url(team.workspace)
        headers = auth_headers(team.member)
        next_week = {"start_at": iso(9, 7), "end_at": iso(10, 7)}
        response = await client.post(url, json=next_week, headers=headers)
        assert response.status_code == 409 and str(running.id) in response.json()["detail"]
        before = {"start_at": iso(8), "end_at": iso(9)}
        assert (await client.post(url, json=before, headers=headers)).status_code == 201

    async def test_updates_and_restores_cannot_overlap(
        self, client: AsyncClient, session: AsyncSession, team: Team
    ) -> None:
        await make_entry(session, team.workspace, team.member, start_at=at(9), end_at=at(10))
        later = await make_entry(
            session, team.workspace, team.member, start_at=at(11), end_at=at(12)
        )
        deleted = await make_entry(
            session,
            team.workspace,
            team.member,
            start_at=at(9.5),
            end_at=at(10.5),
            deleted_at=utcnow(),
        )
        url = entries_url(team.workspace)
        headers = auth_headers(team.member)
        moved = await client.patch(
            f"{url}/{later.id}", json={"start_at": iso(9.5)}, headers=headers
        )
        assert moved.status_code == 409
        shrunk = await client.patch(
            f"{url}/{later.id}", json={"start_at": iso(10)}, headers=headers
        )
        assert shrunk.status_code == 200
        assert (
            await client.post(f"{url}/{deleted.id}/restore", headers=headers)
        ).status_code == 409

    async def test_without_the_setting_overlaps_are_allowed(
        self, client: AsyncClient, session: AsyncSession, team: Team
    ) -> None:
        team.workspace.prevent_overlaps = False
        await session.flush()
        await make_entry(session, team.workspace, team.member, start_at=at(9), end_at=at(10))
        body = {"start_at": iso(9), "end_at": iso(10)}
        response = await client.post(
            entries_url(team.workspace), json=body, headers=auth_headers(team.member)
        )
        assert response.status_code == 201
