"""Live updates: the event stream, its tickets, its heartbeats, and its end when access ends.

Every test here runs with real commits: a stream reads in units of work of its own while
requests write in theirs.
"""

import asyncio
import io
import json
import logging
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.config import Settings
from app.db.engine import Sessions
from app.db.models import StreamTicket
from app.enums import ProjectVisibility
from app.main import create_app
from app.observability.logs import RequestIdFilter, json_formatter
from tests.factories import (
    DEFAULT_PASSWORD,
    Team,
    auth_headers,
    make_project,
    make_tag,
    sign_in,
)
from tests.streaming import Stream, open_stream
from tests.tracking import iso

pytestmark = pytest.mark.committed

HEARTBEAT_SECONDS = 0.4
STREAM_ROUTE = "/api/v1/workspaces/{workspace_id}/events/stream"


def make_app(
    settings: Settings, engine: AsyncEngine, sessions: Sessions, **changes: Any
) -> FastAPI:
    app = create_app(
        settings.model_copy(
            update={
                "event_stream_heartbeat_seconds": HEARTBEAT_SECONDS,
                "event_stream_poll_seconds": 0.2,
                **changes,
            }
        )
    )
    app.state.engine = engine
    app.state.sessions = sessions
    return app


@pytest.fixture
async def app(
    settings: Settings, engine: AsyncEngine, sessions: Sessions
) -> AsyncIterator[FastAPI]:
    """The app with a short heartbeat; its event feed is closed after the test."""
    app = make_app(settings, engine, sessions)
    yield app
    await app.state.event_feed.close()


def stream_url(team: Team) -> str:
    return f"/api/v1/workspaces/{team.workspace.id}/events/stream"


def tickets_url(team: Team) -> str:
    return f"/api/v1/workspaces/{team.workspace.id}/events/stream-tickets"


async def audit_log(client: AsyncClient, team: Team, reader: Any) -> list[dict[str, Any]]:
    response = await client.get(
        f"/api/v1/workspaces/{team.workspace.id}/events",
        params={"order": "sequence", "limit": 200},
        headers=auth_headers(reader),
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def create(client: AsyncClient, team: Team, resource: str, by: Any, **body: Any) -> Any:
    response = await client.post(
        f"/api/v1/workspaces/{team.workspace.id}/{resource}", json=body, headers=auth_headers(by)
    )
    assert response.status_code == 201, response.text
    return response.json()


async def ticket_for(client: AsyncClient, team: Team, headers: dict[str, str]) -> str:
    response = await client.post(tickets_url(team), headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["ticket"])


def problem_of(stream: Stream) -> dict[str, Any]:
    assert stream.headers["content-type"] == "application/problem+json", stream.headers
    return dict(json.loads(stream.body))


async def test_events_arrive_in_order_each_as_the_audit_log_shows_it(
    app: FastAPI, client: AsyncClient, committed_team: Team
) -> None:
    team = committed_team
    headers = {**auth_headers(team.admin), "X-Request-ID": "stream-1"}
    async with open_stream(app, stream_url(team), headers=headers) as stream:
        assert stream.status == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert stream.headers["cache-control"] == "no-store"
        assert stream.headers["x-content-type-options"] == "nosniff"
        assert stream.headers["x-request-id"] == "stream-1"
        await create(client, team, "clients", team.admin, name="Acme")
        await create(client, team, "tags", team.owner, name="urgent")
        await create(client, team, "time-entries", team.member, start_at=iso(9), end_at=iso(10))
        received = await stream.events(3)

    logged = (await audit_log(client, team, team.admin))[-3:]
    assert [message.event for message in received] == [
        "client.created",
        "tag.created",
        "time_entry.created",
    ]
    assert [message.id for message in received] == [str(event["sequence"]) for event in logged]
    assert [message.json() for message in received] == logged


async def test_members_see_only_what_the_audit_log_shows_them_with_rates_hidden(
    app: FastAPI,
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    committed_team: Team,
) -> None:
    team = committed_team
    async with sessionmaker() as session:
        hidden = await make_project(session, team.workspace, visibility=ProjectVisibility.PRIVATE)
        billable = await make_project(
            session, team.workspace, hourly_rate_cents=7000, is_billable=True
        )
        await session.commit()
    async with (
        open_stream(app, stream_url(team), headers=auth_headers(team.member)) as member,
        open_stream(app, stream_url(team), headers=auth_headers(team.admin)) as admin,
    ):
        await create(client, team, "tasks", team.admin, name="Secret", project_id=str(hidden.id))
        await create(
            client,
            team,
            "time-entries",
            team.admin,
            start_at=iso(9),
            end_at=iso(10),
            project_id=str(billable.id),
        )
        await create(
            client,
            team,
            "time-entries",
            team.admin,
            start_at=iso(11),
            end_at=iso(12),
            project_id=str(billable.id),
            user_id=str(team.member.id),
        )
        await create(client, team, "tags", team.admin, name="last")
        seen_by_member = await member.events(2)
        seen_by_admin = await admin.events(4)

    assert [m.event for m in seen_by_member] == ["time_entry.created", "tag.created"]
    own_entry = seen_by_member[0].json()
    assert own_entry["data"]["object"]["user_id"] == str(team.member.id)
    assert own_entry["data"]["object"]["hourly_rate_cents"] is None
    assert [m.json() for m in seen_by_member] == (await audit_log(client, team, team.member))[-2:]
    assert [m.event for m in seen_by_admin] == [
        "task.created",
        "time_entry.created",
        "time_entry.created",
        "tag.created",
    ]
    assert seen_by_admin[2].json()["data"]["object"]["hourly_rate_cents"] == 7000


async def test_resuming_from_last_event_id_or_after_misses_nothing(
    app: FastAPI, client: AsyncClient, committed_team: Team
) -> None:
    team = committed_team
    for n in range(5):
        await create(client, team, "tags", team.admin, name=f"tag {n}")
    logged = (await audit_log(client, team, team.admin))[-5:]
    sequences = [str(event["sequence"]) for event in logged]
    headers = auth_headers(team.admin)

    resumed = {**headers, "Last-Event-ID": sequences[1]}
    async with open_stream(app, stream_url(team), headers=resumed) as stream:
        assert [m.id for m in await stream.events(3)] == sequences[2:]
    after = {"after": sequences[3]}
    async with open_stream(app, stream_url(team), headers=headers, params=after) as stream:
        assert [m.id for m in await stream.events(1)] == sequences[4:]
    # The header is what a reconnecting browser sends, while its URL keeps the first `after`.
    params = {"after": sequences[0]}
    async with open_stream(app, stream_url(team), headers=resumed, params=params) as stream:
        assert (await stream.next_event()).id == sequences[2]
    # With neither, only what comes next.
    async with open_stream(app, stream_url(team), headers=headers) as stream:
        await create(client, team, "tags", team.admin, name="next")
        assert int((await stream.next_event()).id or 0) == int(sequences[-1]) + 1


async def test_a_stream_far_behind_catches_up_page_by_page(
    app: FastAPI,
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    committed_team: Team,
) -> None:
    team = committed_team
    start = await audit_log(client, team, team.admin)
    first = start[-1]["sequence"] if start else 0
    async with sessionmaker() as session:
        for n in range(230):
            await make_tag(session, team.workspace, name=f"tag {n}")
        await session.commit()
    headers = auth_headers(team.admin)
    params = {"after": str(first)}
    async with open_stream(app, stream_url(team), headers=headers, params=params) as stream:
        received = await stream.events(230)
    assert [int(m.id or 0) for m in received] == list(range(first + 1, first + 231))


async def test_an_idle_stream_sends_heartbeats(app: FastAPI, committed_team: Team) -> None:
    team = committed_team
    async with open_stream(app, stream_url(team), headers=auth_headers(team.member)) as stream:
        started = time.monotonic()
        beats = [await stream.next(), await stream.next(), await stream.next()]
        elapsed = time.monotonic() - started
    assert [beat.comments if beat else None for beat in beats] == [["heartbeat"]] * 3
    assert 3 * HEARTBEAT_SECONDS * 0.9 <= elapsed < 3 * HEARTBEAT_SECONDS + 5


async def test_the_stream_ends_when_the_member_is_removed(
    app: FastAPI, client: AsyncClient, committed_team: Team
) -> None:
    team = committed_team
    async with open_stream(app, stream_url(team), headers=auth_headers(team.member)) as stream:
        removed = await client.delete(
            f"/api/v1/workspaces/{team.workspace.id}/members/{team.member.id}",
            headers=auth_headers(team.admin),
        )
        assert removed.status_code == 204, removed.text
        started = time.monotonic()
        await stream.ended()
        assert time.monotonic() - started < HEARTBEAT_SECONDS + 5


async def test_the_stream_ends_when_the_workspace_is_deleted(
    app: FastAPI, client: AsyncClient, committed_team: Team
) -> None:
    team = committed_team
    async with open_stream(app, stream_url(team), headers=auth_headers(team.admin)) as stream:
        deleted = await client.delete(
            f"/api/v1/workspaces/{team.workspace.id}", headers=auth_headers(team.owner)
        )
        assert deleted.status_code == 204, deleted.text
        assert (await stream.next_event()).event == "workspace.deleted"
        await stream.ended()


async def test_the_stream_ends_when_a_password_change_revokes_the_token(
    app: FastAPI, client: AsyncClient, committed_team: Team
) -> None:
    team = committed_team
    token = (await sign_in(client, team.member.email)).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    ticket = await ticket_for(client, team, headers)
    async with (
        open_stream(app, stream_url(team), headers=headers) as by_token,
        open_stream(app, stream_url(team), params={"ticket": ticket}) as by_ticket,
    ):
        assert (by_token.status, by_ticket.status) == (200, 200)
        changed = await client.post(
            "/api/v1/users/me/password",
            json={"current_password": DEFAULT_PASSWORD, "new_password": "a brand new password"},
            headers=headers,
        )
        assert changed.status_code == 204, changed.text
        await by_token.ended()
        await by_ticket.ended()


async def test_the_stream_ends_when_its_api_token_is_revoked(
    app: FastAPI, client: AsyncClient, committed_team: Team
) -> None:
    team = committed_team
    session = auth_headers(team.member)
    issued = await client.post("/api/v1/users/me/tokens", json={"name": "app"}, headers=session)
    assert issued.status_code == 201, issued.text
    headers = {"Authorization": f"Bearer {issued.json()['token']}"}
    ticket = await ticket_for(client, team, headers)
    async with (
        open_stream(app, stream_url(team), headers=headers) as by_token,
        open_stream(app, stream_url(team), params={"ticket": ticket}) as by_ticket,
    ):
        await create(client, team, "tags", team.admin, name="seen")
        assert (await by_token.next_event()).event == "tag.created"
        assert (await by_ticket.next_event()).event == "tag.created"
        revoked = await client.delete(
            f"/api/v1/users/me/tokens/{issued.json()['id']}", headers=session
        )
        assert revoked.status_code == 204, revoked.text
        await by_token.ended()
        await by_ticket.ended()


async def test_a_ticket_opens_one_stream_once_within_a_minute(
    app: FastAPI,
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    committed_team: Team,
) -> None:
    team = committed_team
    issued = await client.post(tickets_url(team), headers=auth_headers(team.member))
    assert issued.status_code == 201, issued.text
    assert issued.headers["cache-control"] == "no-store"
    ticket = issued.json()["ticket"]
    assert ticket.startswith("tst_")
    lifetime = datetime.fromisoformat(issued.json()["expires_at"]) - datetime.now(UTC)
    assert timedelta(seconds=55) < lifetime <= timedelta(seconds=60)

    async with open_stream(app, stream_url(team), params={"ticket": ticket}) as stream:
        assert stream.status == 200
        await create(client, team, "tags", team.admin, name="via ticket")
        assert (await stream.next_event()).event == "tag.created"
    async with open_stream(app, stream_url(team), params={"ticket": ticket}) as again:
        assert again.status == 401
        assert problem_of(again)["detail"] == "The stream ticket is unknown, used or expired."

    expiring = await ticket_for(client, team, auth_headers(team.member))
    async with sessionmaker() as session:
        past = datetime.now(UTC) - timedelta(seconds=1)
        await session.execute(
            update(StreamTicket).where(StreamTicket.used_at.is_(None)).values(expires_at=past)
        )
        await session.commit()
    async with open_stream(app, stream_url(team), params={"ticket": expiring}) as expired:
        assert expired.status == 401


async def test_who_gets_a_stream(app: FastAPI, client: AsyncClient, committed_team: Team) -> None:
    team = committed_team
    elsewhere = f"/api/v1/workspaces/{team.other_workspace.id}/events/stream"
    ticket = await ticket_for(client, team, auth_headers(team.member))
    cases: list[tuple[str, dict[str, str], dict[str, str], int]] = [
        (stream_url(team), {}, {}, 401),
        (stream_url(team), {"Authorization": "Bearer not-a-token"}, {}, 401),
        (stream_url(team), {}, {"ticket": "tst_unknown"}, 401),
        # A ticket works in its own workspace only, and says nothing of another.
        (elsewhere, {}, {"ticket": ticket}, 401),
        (stream_url(team), auth_headers(team.outsider), {}, 404),
        (stream_url(team), auth_headers(team.member), {"after": "-1"}, 422),
        (stream_url(team), {**auth_headers(team.member), "Last-Event-ID": "x"}, {}, 422),
    ]
    for path, headers, params, status in cases:
        async with open_stream(app, path, headers=headers, params=params) as stream:
            assert stream.status == status, (path, headers, params, stream.body)
            assert problem_of(stream)["status"] == status
    outsider = await client.post(tickets_url(team), headers=auth_headers(team.outsider))
    assert outsider.status_code == 404
    nobody = await client.post(tickets_url(team))
    assert nobody.status_code == 401
    # The ticket refused on the other workspace is still good in its own.
    async with open_stream(app, stream_url(team), params={"ticket": ticket}) as stream:
        assert stream.status == 200


async def test_a_waiting_stream_holds_no_database_connection(
    settings: Settings, engine: AsyncEngine, sessions: Sessions, committed_team: Team
) -> None:
    team = committed_team
    pool = engine.sync_engine.pool
    if settings.db_pgbouncer:
        pytest.skip("behind PgBouncer the engine keeps no pool: every connection is closed")
    # Nothing polls meanwhile, and no heartbeat comes: the stream only waits.
    app = make_app(
        settings, engine, sessions, event_stream_poll_seconds=60, event_stream_heartbeat_seconds=60
    )
    try:
        async with open_stream(app, stream_url(team), headers=auth_headers(team.member)) as stream:
            assert stream.status == 200
            await asyncio.sleep(0.3)
            assert pool.checkedout() == 0, pool.status()
    finally:
        await app.state.event_feed.close()


@pytest.fixture
def access_log() -> Iterator[io.StringIO]:
    written = io.StringIO()
    handler = logging.StreamHandler(written)
    handler.setFormatter(json_formatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("timesheet.access")
    previous_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield written
    logger.removeHandler(handler)
    logger.setLevel(previous_level)


async def test_the_access_line_of_a_stream_is_written_when_it_ends(
    app: FastAPI, committed_team: Team, client: AsyncClient, access_log: io.StringIO
) -> None:
    team = committed_team
    ticket = await ticket_for(client, team, auth_headers(team.member))
    access_log.truncate(0)
    access_log.seek(0)
    headers = {"X-Request-ID": "stream-line"}
    async with open_stream(app, stream_url(team), headers=headers, params={"ticket": ticket}):
        await asyncio.sleep(HEARTBEAT_SECONDS * 1.5)
        assert access_log.getvalue() == ""
    (line,) = [json.loads(text) for text in access_log.getvalue().splitlines()]
    assert line["route"] == STREAM_ROUTE
    assert line["status"] == 200
    assert line["request_id"] == "stream-line"
    assert line["user_id"] == str(team.member.id)
    assert line["workspace_id"] == str(team.workspace.id)
    assert line["duration_ms"] >= HEARTBEAT_SECONDS * 1000
    assert ticket not in access_log.getvalue()


async def test_hostile_input_gets_a_problem_or_a_stream(app: FastAPI, committed_team: Team) -> None:
    team = committed_team
    queries: list[dict[str, str]] = [
        {"after": "-1"},
        {"after": "9" * 40},
        {"after": "nul\x00"},
        {"ticket": "x" * 101},
        {"ticket": "nul\x00byte"},
        {"limit": "-1", "cursor": "%%%"},
    ]
    headers = [{"Last-Event-ID": "-5"}, {"Last-Event-ID": "9" * 40}, {"Last-Event-ID": "%00"}]
    for query, extra in [*((q, {}) for q in queries), *(({}, h) for h in headers)]:
        sent = {**auth_headers(team.admin), **extra}
        async with open_stream(app, stream_url(team), headers=sent, params=query) as stream:
            what = (query, extra, stream.status, stream.body[:200])
            assert stream.status in (200, 401, 422), what
            if stream.status != 200:
                assert problem_of(stream)["status"] == stream.status, what
