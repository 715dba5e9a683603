"""Every path that writes entries refuses a change to closed time, with one problem type:
the matrix of path, how the time is closed, and who asks."""

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import TimeEntry, User
from app.db.types import utcnow
from app.enums import ApprovalState, LockReason
from app.errors import PeriodLocked
from app.repositories.closed_time import ClosingApproval
from app.services.closed_time import ClosedTime
from tests.closing import STATES, WEEK, close, refused, this_week
from tests.factories import Team, auth_headers, make_entry
from tests.importing import finished_run
from tests.problems import assert_problem
from tests.tracking import at, entries_url, iso, timer_url

PERIOD_LOCKED = "urn:timesheet:problem:period-locked"
ROLES = ["owner", "admin", "member"]
ADMINS = ["owner", "admin"]


def assert_locked(response: Response, *, refused: bool, done: int) -> None:
    if not refused:
        assert response.status_code == done, response.text
        return
    assert_problem(response, 409)
    body = response.json()
    assert body["type"] == PERIOD_LOCKED, body
    # The detail names the period: its dates, or the instant time is closed before.
    assert "2024-04-22 to 2024-04-29" in body["detail"] or "2024-04-29T00:00:00Z" in body["detail"]


def bulk_statuses(response: Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [result["status"] for result in response.json()["results"]]


Path = Callable[[AsyncClient, AsyncSession, Team, User], Awaitable[Response]]


async def _create(client: AsyncClient, session: AsyncSession, team: Team, caller: User) -> Response:
    body = {"start_at": iso(9, 2), "end_at": iso(10, 2), "user_id": str(team.member.id)}
    return await client.post(entries_url(team.workspace), json=body, headers=auth_headers(caller))


async def _update(client: AsyncClient, session: AsyncSession, team: Team, caller: User) -> Response:
    entry = await make_entry(session, team.workspace, team.member, start_at=at(9, 1))
    url = f"{entries_url(team.workspace)}/{entry.id}"
    return await client.patch(url, json={"description": "late"}, headers=auth_headers(caller))


async def _move_out(
    client: AsyncClient, session: AsyncSession, team: Team, caller: User
) -> Response:
    """The old interval is closed, the new one open."""
    entry = await make_entry(session, team.workspace, team.member, start_at=at(9, 1))
    url = f"{entries_url(team.workspace)}/{entry.id}"
    body = {"start_at": iso(9, 9), "end_at": iso(10, 9)}
    return await client.patch(url, json=body, headers=auth_headers(caller))


async def _move_in(
    client: AsyncClient, session: AsyncSession, team: Team, caller: User
) -> Response:
    """The old interval is open, the new one closed."""
    entry = await make_entry(session, team.workspace, team.member, start_at=at(9, 9))
    url = f"{entries_url(team.workspace)}/{entry.id}"
    body = {"start_at": iso(9, 1), "end_at": iso(10, 1)}
    return await client.patch(url, json=body, headers=auth_headers(caller))


async def _delete(client: AsyncClient, session: AsyncSession, team: Team, caller: User) -> Response:
    entry = await make_entry(session, team.workspace, team.member, start_at=at(9, 1))
    url = f"{entries_url(team.workspace)}/{entry.id}"
    return await client.delete(url, headers=auth_headers(caller))


async def _restore(
    client: AsyncClient, session: AsyncSession, team: Team, caller: User
) -> Response:
    entry = await make_entry(
        session, team.workspace, team.member, start_at=at(9, 1), deleted_at=utcnow()
    )
    url = f"{entries_url(team.workspace)}/{entry.id}/restore"
    return await client.post(url, headers=auth_headers(caller))


async def _reassign(
    client: AsyncClient, session: AsyncSession, team: Team, caller: User
) -> Response:
    """An open entry of the caller's moves to the member, into the member's closed week."""
    entry = await make_entry(session, team.workspace, caller, start_at=at(9, 9))
    url = f"{entries_url(team.workspace)}/{entry.id}"
    body = {"user_id": str(team.member.id), "start_at": iso(9, 1), "end_at": iso(10, 1)}
    return await client.patch(url, json=body, headers=auth_headers(caller))


ENTRY_PATHS: dict[str, Path] = {
    "create": _create,
    "update": _update,
    "move_out": _move_out,
    "move_in": _move_in,
    "delete": _delete,
    "restore": _restore,
}
DONE = {"create": 201, "delete": 204}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("path", list(ENTRY_PATHS))
async def test_single_entry_paths(
    client: AsyncClient, session: AsyncSession, team: Team, path: str, state: str, role: str
) -> None:
    """The member's week is closed; each role changes an entry of it."""
    caller = team.by_role(role)
    await close(session, team.workspace, team.member, state)
    response = await ENTRY_PATHS[path](client, session, team, caller)
    own_time = caller is team.member
    assert_locked(response, refused=refused(state, own_time=own_time), done=DONE.get(path, 200))


@pytest.mark.parametrize("role", ADMINS)
@pytest.mark.parametrize("state", STATES)
async def test_moving_an_entry_to_someone_whose_time_is_closed(
    client: AsyncClient, session: AsyncSession, team: Team, state: str, role: str
) -> None:
    caller = team.by_role(role)
    await close(session, team.workspace, team.member, state)
    response = await _reassign(client, session, team, caller)
    # A submitted week is closed to the member alone: an admin may still put time in it.
    assert_locked(response, refused=refused(state, own_time=False), done=200)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("state", STATES)
async def test_bulk_paths_refuse_the_closed_entry_and_do_the_rest(
    client: AsyncClient, session: AsyncSession, team: Team, state: str, role: str
) -> None:
    caller = team.by_role(role)
    await close(session, team.workspace, team.member, state)
    entries = [
        await make_entry(session, team.workspace, team.member, start_at=at(9, day))
        for day in (1, 9, 2, 10)  # closed, open, closed, open
    ]
    ids = [str(entry.id) for entry in entries]
    locked = refused(state, own_time=caller is team.member)
    url = entries_url(team.workspace)
    headers = auth_headers(caller)
    changed = await client.patch(
        url, json={"ids": ids[:2], "changes": {"description": "bulk"}}, headers=headers
    )
    assert bulk_statuses(changed) == ([409, 200] if locked else [200, 200])
    if locked:
        assert "closed" in changed.json()["results"][0]["detail"]
    deleted = await client.delete(url, params={"ids": ids[2:]}, headers=headers)
    assert bulk_statuses(deleted) == ([409, 204] if locked else [204, 204])
    descriptions = await session.scalars(
        select(TimeEntry.description)
        .where(TimeEntry.id.in_([entry.id for entry in entries[:2]]))
        .order_by(TimeEntry.start_at)
        .execution_options(populate_existing=True)
    )
    assert list(descriptions) == (["", "bulk"] if locked else ["bulk", "bulk"])


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("state", STATES)
async def test_the_timer_starts_and_stops_only_in_open_time(
    client: AsyncClient, session: AsyncSession, team: Team, state: str, role: str
) -> None:
    """The timer tracks the caller's own time, now: a closed week holding today refuses it."""
    caller = team.by_role(role)
    week = this_week()
    locked = refused(state, own_time=True)
    await close(session, team.workspace, caller, state, period=week)
    started = await client.post(
        timer_url(team.workspace, "start"), json={}, headers=auth_headers(caller)
    )
    assert_timer(started, refused=locked, done=201)
    if not locked:
        return
    # A running entry never starts in closed time; should one be there all the same, it
    # cannot be stopped into it either.
    await make_entry(session, team.workspace, caller, start_at=utcnow(), end_at=None)
    stopped = await client.post(timer_url(team.workspace, "stop"), headers=auth_headers(caller))
    assert_timer(stopped, refused=True, done=200)


def assert_timer(response: Response, *, refused: bool, done: int) -> None:
    if refused:
        assert response.status_code == 409, response.text
        assert response.json()["type"] == PERIOD_LOCKED
    else:
        assert response.status_code == done, response.text


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("state", STATES)
async def test_removing_a_member_does_not_stop_their_timer_into_closed_time(
    client: AsyncClient, session: AsyncSession, team: Team, state: str, role: str
) -> None:
    """Admins remove the member; the member leaves. Their running entry sits in closed time
    (written past the checks): the stop it needs is refused, and the member stays."""
    caller = team.by_role(role)
    await close(session, team.workspace, team.member, state, period=this_week())
    await make_entry(session, team.workspace, team.member, start_at=utcnow(), end_at=None)
    url = f"/api/v1/workspaces/{team.workspace.id}/members/{team.member.id}"
    response = await client.delete(url, headers=auth_headers(caller))
    assert_timer(response, refused=refused(state, own_time=caller is team.member), done=204)


def _native_csv(team: Team) -> bytes:
    return (
        "Email,Project,Description,Billable,Start date,Start time,End date,End time\n"
        f"{team.member.email},Site,closed,No,2024-04-23,09:00,2024-04-23,10:00\n"
        f"{team.member.email},Site,open,No,2024-05-01,09:00,2024-05-01,10:00\n"
    ).encode()


@pytest.mark.parametrize("dry_run", [True, False], ids=["dry_run", "import"])
@pytest.mark.parametrize("role", ADMINS)
@pytest.mark.parametrize("state", STATES)
async def test_an_import_row_into_closed_time_fails_with_its_line(
    app: FastAPI,
    client: AsyncClient,
    session: AsyncSession,
    team: Team,
    state: str,
    role: str,
    dry_run: bool,
) -> None:
    await close(session, team.workspace, team.member, state)
    response = await client.post(
        f"/api/v1/workspaces/{team.workspace.id}/imports",
        files={"file": ("toggl.csv", _native_csv(team), "text/csv")},
        data={"format": "toggl_csv", "timezone": "UTC", "dry_run": str(dry_run).lower()},
        headers=auth_headers(team.by_role(role)),
    )
    run = await finished_run(app, client, response, auth_headers(team.by_role(role)))
    # An import is an admin's: a submitted week of the member's is still open to it.
    if refused(state, own_time=False):
        assert (run["created_count"], run["failed_count"]) == (1, 1)
        [error] = run["errors"]
        assert error["line"] == 2
        assert "closed" in error["reason"]
        assert "2024-04-22 to 2024-04-29" in error["reason"] or "2024-04-29" in error["reason"]
    else:
        assert (run["created_count"], run["failed_count"]) == (2, 0)


def test_the_rule_itself() -> None:
    """Half-open periods, `locked_before` exclusive, and a submitted period closed to its
    person alone."""
    person, admin = uuid.uuid4(), uuid.uuid4()
    week = ClosingApproval(uuid.uuid4(), person, ApprovalState.SUBMITTED, at(0), at(0, 7), *WEEK)
    for actor, refused_ in ((person, True), (admin, False)):
        closed = ClosedTime(actor, None, [week])
        for start, inside in ((at(0), True), (at(0, 7), False), (at(-1), False)):
            if inside and refused_:
                with pytest.raises(PeriodLocked, match="2024-04-22 to 2024-04-29"):
                    closed.check(person, start)
            else:
                closed.check(person, start)
            assert closed.reason(person, start) == (LockReason.SUBMITTED if inside else None)
        closed.check(admin, at(0))  # another person's time is not in the period
    approved = ClosedTime(admin, None, [replace(week, state=ApprovalState.APPROVED)])
    with pytest.raises(PeriodLocked, match="closed to everyone"):
        approved.check(person, at(9, 3))
    before = ClosedTime(admin, at(0), [])
    with pytest.raises(PeriodLocked, match="2024-04-22T00:00:00Z"):
        before.check(person, at(-0.001))
    before.check(person, at(0))
    assert before.reason(person, at(-1)) is LockReason.CLOSED_PERIOD
