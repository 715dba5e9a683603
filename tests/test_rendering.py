"""The hot routes render their JSON straight from rows: it must be the JSON their schema
describes, for every kind of row and reader."""

from datetime import timedelta
from typing import Any

import orjson
import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.rendering import render_one, render_page
from app.pagination import PageResult
from app.repositories.memberships import MembershipRepository
from app.repositories.time_entries import (
    RunningEntryRepository,
    TimeEntryRepository,
    WrittenEntry,
)
from app.schemas.common import Page, rate_context
from app.schemas.time_entries import TimeEntryRead
from app.services.caller import Caller, SignIn
from tests.factories import Team, auth_headers, make_entry, make_project, make_tag
from tests.tracking import at, entries_url, iso, tag_entry, timer_url


def schema_json(row: Any, rates_visible: bool) -> dict[str, Any]:
    return TimeEntryRead.model_validate(row, context=rate_context(rates_visible)).model_dump(
        mode="json"
    )


async def caller_of(session: AsyncSession, team: Team, role: str) -> Caller:
    user = team.by_role(role)
    membership = await MembershipRepository(session, team.workspace.id).find_by_user(user.id)
    assert membership is not None
    return Caller(user, SignIn.SESSION).in_workspace(team.workspace, membership)


@pytest.mark.parametrize("role", ["owner", "member"])
async def test_rendered_rows_are_what_the_schema_makes_of_them(
    session: AsyncSession, team: Team, role: str
) -> None:
    project = await make_project(session, team.workspace, hourly_rate_cents=4200)
    finished = await make_entry(
        session,
        team.workspace,
        team.member,
        project_id=project.id,
        billable=True,
        hourly_rate_cents=4200,
        description="=SUM(A1) ünïcode",
    )
    await tag_entry(
        session,
        finished,
        await make_tag(session, team.workspace),
        await make_tag(session, team.workspace),
    )
    running = await make_entry(
        session, team.workspace, team.member, start_at=at(9, day=4), end_at=None
    )
    deleted = await make_entry(session, team.workspace, team.member, start_at=at(2, day=3))
    await session.flush()
    deleted.deleted_at = deleted.start_at
    await session.flush()
    # The finished entry starts in closed time: its reads say why.
    team.workspace.locked_before = finished.start_at + timedelta(minutes=1)
    assert running.start_at > team.workspace.locked_before
    await session.flush()
    caller = await caller_of(session, team, role)
    rates_visible = role == "owner"
    entries = TimeEntryRepository(session, team.workspace.id)
    rows = [
        await entries.get_row(entry.id, include_deleted=True)
        for entry in (finished, running, deleted)
    ]
    assert [row.locked_reason for row in rows] == ["closed_period", None, None]
    # Read rows hold the schema's fields in its order: rendering zips them with their names.
    assert rows[0]._fields == tuple(TimeEntryRead.model_fields)
    for row in rows:
        body = orjson.loads(render_one(TimeEntryRead, row, caller).body)
        expected = schema_json(row, rates_visible)
        if row.end_at is None:  # a running entry's duration counts up between the two
            assert abs(body.pop("duration_seconds") - expected.pop("duration_seconds")) <= 1
        assert body == expected
    # An entry just written, as writes hand it to the response.
    orm_entry = await RunningEntryRepository(session).get_for_user(team.member.id)
    assert orm_entry is not None
    written = WrittenEntry(orm_entry, [tag.id for tag in orm_entry.tags], locked_reason=None)
    body = orjson.loads(render_one(TimeEntryRead, written, caller).body)
    expected = schema_json(written, rates_visible)
    body.pop("duration_seconds"), expected.pop("duration_seconds")
    assert body == expected

    # A page of finished entries, the first with two tags, the last with none.
    finished_rows = [rows[0], rows[2]]
    page = PageResult(items=finished_rows, next_cursor="abc", total=3)
    rendered = orjson.loads(render_page(TimeEntryRead, page, caller).body)
    assert len(rendered["items"][0]["tag_ids"]) == 2 and rendered["items"][1]["tag_ids"] == []
    assert rendered == Page[TimeEntryRead](
        items=[
            TimeEntryRead.model_validate(row, context=rate_context(rates_visible))
            for row in finished_rows
        ],
        next_cursor="abc",
        total=3,
    ).model_dump(mode="json")


@pytest.mark.parametrize("role", ["admin", "member"])
async def test_every_hot_route_answers_json_its_schema_describes(
    client: AsyncClient, session: AsyncSession, team: Team, role: str
) -> None:
    project = await make_project(session, team.workspace, hourly_rate_cents=5000)
    tag = await make_tag(session, team.workspace)
    await session.flush()
    headers = auth_headers(team.by_role(role))
    url = entries_url(team.workspace)

    def holds(body: dict[str, Any]) -> None:
        context = rate_context(role == "admin")
        again = TimeEntryRead.model_validate_json(orjson.dumps(body), context=context)
        assert again.model_dump(mode="json") == body
        if role == "member":
            assert body["hourly_rate_cents"] is None

    created = await client.post(
        url,
        json={
            "start_at": iso(9),
            "end_at": iso(10),
            "project_id": str(project.id),
            "tag_ids": [str(tag.id)],
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    assert created.headers["content-type"] == "application/json"
    assert created.headers["etag"] == '"1"'
    holds(created.json())
    entry_url = f"{url}/{created.json()['id']}"
    got = await client.get(entry_url, headers=headers)
    assert got.status_code == 200 and got.json() == created.json()
    assert got.headers["etag"] == '"1"'
    updated = await client.patch(entry_url, json={"description": "x"}, headers=headers)
    assert updated.status_code == 200 and updated.headers["etag"] == '"2"'
    holds(updated.json())
    listed = await client.get(url, params={"include_total": "true"}, headers=headers)
    assert listed.status_code == 200
    page = listed.json()
    context = rate_context(role == "admin")
    assert Page[TimeEntryRead].model_validate(page, context=context).model_dump(mode="json") == page
    assert page["total"] == 1 and page["items"] == [updated.json()]
    started = await client.post(timer_url(team.workspace, "start"), json={}, headers=headers)
    assert started.status_code == 201, started.text
    holds(started.json())
    stopped = await client.post(timer_url(team.workspace, "stop"), headers=headers)
    assert stopped.status_code == 200, stopped.text
    holds(stopped.json())
    if role == "admin":
        assert created.json()["hourly_rate_cents"] == 5000
