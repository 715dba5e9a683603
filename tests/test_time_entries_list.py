"""Listing time entries: filters, sorting, keyset pages, query counts and sync."""

import random
from datetime import datetime
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.types import utcnow
from tests.conftest import QueryCounter
from tests.factories import (
    Team,
    auth_headers,
    make_client,
    make_entry,
    make_project,
    make_tag,
    make_task,
)
from tests.listing import assert_pages_and_query_count
from tests.tracking import at, entries_url, iso, tag_entry


async def listed_ids(
    client: AsyncClient, team: Team, params: dict[str, Any], *, as_user: str = "admin"
) -> list[str]:
    response = await client.get(
        entries_url(team.workspace),
        params={"limit": 200, **params},
        headers=auth_headers(team.by_role(as_user)),
    )
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def test_filters(client: AsyncClient, session: AsyncSession, team: Team) -> None:
    acme = await make_client(session, team.workspace)
    website = await make_project(session, team.workspace, client_id=acme.id)
    internal = await make_project(session, team.workspace)
    design = await make_task(session, website)
    urgent, later = await make_tag(session, team.workspace), await make_tag(session, team.workspace)
    ws, member, admin = team.workspace, team.member, team.admin

    async def entry(hour: float, day: int, **values: Any) -> str:
        tags = values.pop("tags", [])
        user = values.pop("user", member)
        row = await make_entry(session, ws, user, start_at=at(hour, day), **values)
        await tag_entry(session, row, *tags)
        return str(row.id)

    designing = await entry(
        9,
        0,
        project_id=website.id,
        task_id=design.id,
        tags=[urgent],
        billable=True,
        description="Design REVIEW",
    )
    coding = await entry(9, 1, project_id=internal.id, tags=[later], description="coding 100%")
    meeting = await entry(9, 2, tags=[urgent, later], description="meeting")
    admins = await entry(11, 0, user=admin, project_id=website.id, billable=True)
    running = await entry(9, 3, end_at=None, description="still going")
    await entry(12, 1, deleted_at=utcnow())

    async def ids(**params: Any) -> set[str]:
        return set(await listed_ids(client, team, params))

    everything = {designing, coding, meeting, admins, running}
    assert await ids() == everything
    # Half-open on the start: `from` <= start_at < `to`.
    assert await ids(**{"from": iso(9, 1), "to": iso(9, 2)}) == {coding}
    assert await ids(**{"from": iso(9.5, 0)}) == {admins, coding, meeting, running}
    assert await ids(to=iso(11, 0)) == {designing}
    assert await ids(user_id=str(admin.id)) == {admins}
    assert await ids(user_id=[str(admin.id), str(member.id)]) == everything
    assert await ids(project_id=str(website.id)) == {designing, admins}
    assert await ids(project_id=[str(website.id), str(internal.id)]) == {designing, admins, coding}
    assert await ids(client_id=str(acme.id)) == {designing, admins}
    assert await ids(task_id=str(design.id)) == {designing}
    assert await ids(tag_id=str(urgent.id)) == {designing, meeting}
    assert await ids(tag_id=[str(urgent.id), str(later.id)]) == {designing, coding, meeting}
    assert await ids(billable=True) == {designing, admins}
    assert await ids(billable=False) == {coding, meeting, running}
    assert await ids(running=True) == {running}
    assert await ids(running=False) == everything - {running}
    assert await ids(q="review") == {designing}
    assert await ids(q="0%") == {coding}  # LIKE wildcards are literal
    assert await ids(q="%") == {coding}
    assert await ids(project_id=str(website.id), billable=True, user_id=str(member.id)) == {
        designing
    }
    assert len(await ids(include_deleted=True)) == 6
    # The total counts what the filters select, beyond the page.
    counted = await client.get(
        entries_url(ws),
        params={"project_id": str(website.id), "include_total": "true", "limit": 1},
        headers=auth_headers(admin),
    )
    assert counted.json()["total"] == 2 and len(counted.json()["items"]) == 1


@pytest.mark.parametrize(
    ("sort", "expected"),
    [(None, [3, 2, 1, 0]), ("-start_at", [3, 2, 1, 0]), ("start_at", [0, 1, 2, 3])],
)
async def test_sorting_by_start(
    client: AsyncClient,
    session: AsyncSession,
    team: Team,
    sort: str | None,
    expected: list[int],
) -> None:
    entries = [
        await make_entry(session, team.workspace, team.member, start_at=at(9, day))
        for day in (1, 3, 0, 2)
    ]
    by_day = {entry.start_at: str(entry.id) for entry in entries}
    params = {"sort": sort} if sort else {}
    assert await listed_ids(client, team, params) == [by_day[at(9, day)] for day in expected]


async def test_an_empty_cursor_asks_for_the_first_page(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    entry = await make_entry(session, team.workspace, team.member, start_at=at(9))
    for sort in ("-start_at", "updated_at"):
        assert await listed_ids(client, team, {"cursor": "", "sort": sort}) == [str(entry.id)]


async def test_invalid_list_parameters_are_422(client: AsyncClient, team: Team) -> None:
    for params, loc in [
        ({"from": "2024-04-22T09:00:00"}, ["query", "from"]),
        ({"updated_since": "yesterday"}, ["query", "updated_since"]),
        ({"sort": "duration"}, ["query", "sort"]),
        ({"user_id": "me"}, ["query", "user_id", 0]),
        ({"limit": 201}, ["query", "limit"]),
        ({"limit": 0}, ["query", "limit"]),
        ({"cursor": "bm9wZQ"}, ["query", "cursor"]),
    ]:
        response = await client.get(
            entries_url(team.workspace), params=params, headers=auth_headers(team.member)
        )
        assert response.status_code == 422, params
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["loc"] == loc


@pytest.mark.parametrize("role", ["admin", "member"])
async def test_pages_walk_once_with_a_fixed_query_count(
    client: AsyncClient,
    session: AsyncSession,
    team: Team,
    query_counter: QueryCounter,
    role: str,
) -> None:
    project = await make_project(session, team.workspace)
    tags = [await make_tag(session, team.workspace) for _ in range(3)]
    entries = []
    for n in range(5):
        # Two entries share each start, so the id breaks ties.
        entry = await make_entry(
            session, team.workspace, team.member, start_at=at(9, n // 2), project_id=project.id
        )
        await tag_entry(session, entry, *tags[: n % 3 + 1])
        entries.append(entry)
    expected = [
        str(entry.id) for entry in sorted(entries, key=lambda e: (e.start_at, e.id), reverse=True)
    ]
    # Filters are part of the same statements, never extra ones per row.
    for params in [{}, {"project_id": str(project.id), "tag_id": [str(t.id) for t in tags]}]:
        await assert_pages_and_query_count(
            client,
            entries_url(team.workspace),
            auth_headers(team.by_role(role)),
            query_counter,
            expected,
            params=params,
        )


@pytest.mark.parametrize("sort", ["-start_at", "start_at", "updated_at"])
async def test_walking_pages_sees_each_entry_once_while_entries_are_added(
    client: AsyncClient, session: AsyncSession, team: Team, sort: str
) -> None:
    shuffle = random.Random(7)
    starts = [at(shuffle.choice([8, 9, 10]), shuffle.randrange(5)) for _ in range(23)]
    original = {
        str((await make_entry(session, team.workspace, team.member, start_at=start)).id)
        for start in starts
    }
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 4, "sort": sort, **({"cursor": cursor} if cursor else {})}
        response = await client.get(
            entries_url(team.workspace), params=params, headers=auth_headers(team.member)
        )
        body = response.json()
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
        # Someone keeps tracking while we page: new entries land anywhere in the order,
        # including on the very instant the current page ended at.
        last_start = datetime.fromisoformat(body["items"][-1]["start_at"])
        for start in (last_start, at(shuffle.choice([8, 9, 10]), shuffle.randrange(5))):
            await make_entry(session, team.workspace, team.member, start_at=start)
    assert len(seen) == len(set(seen))
    assert original <= set(seen)


async def test_sync_returns_changes_and_tombstones_since_a_moment(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    untouched, edited, deleted = [
        await make_entry(session, team.workspace, team.member, start_at=at(9, day))
        for day in range(3)
    ]
    since = utcnow()
    url = entries_url(team.workspace)
    headers = auth_headers(team.member)
    assert (
        await client.patch(f"{url}/{edited.id}", json={"description": "x"}, headers=headers)
    ).status_code == 200
    assert (await client.delete(f"{url}/{deleted.id}", headers=headers)).status_code == 204

    params = {"updated_since": since.isoformat(), "sort": "updated_at"}
    changes = (
        await client.get(url, params={**params, "include_deleted": True}, headers=headers)
    ).json()["items"]
    assert [item["id"] for item in changes] == [str(edited.id), str(deleted.id)]
    assert changes[0]["deleted_at"] is None and changes[1]["deleted_at"] is not None
    live_only = (await client.get(url, params=params, headers=headers)).json()["items"]
    assert [item["id"] for item in live_only] == [str(edited.id)]
    assert str(untouched.id) in await listed_ids(client, team, {}, as_user="member")
