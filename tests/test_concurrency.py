"""The tracking rules hold under concurrency: requests in real, separate transactions."""

import asyncio
import itertools
from datetime import timedelta

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.models import TimeEntry
from app.errors import Conflict
from app.repositories.time_entries import RUNNING_CONFLICT, TimeEntryRepository
from tests.factories import Team, auth_headers, make_entry, make_membership, make_workspace
from tests.tracking import at, entries_url, timer_url

PARALLEL = 10
HOUR = timedelta(hours=1)


async def entries_of(sessionmaker: async_sessionmaker[AsyncSession], team: Team) -> list[TimeEntry]:
    async with sessionmaker() as session:
        statement = (
            select(TimeEntry)
            .where(TimeEntry.user_id == team.member.id, TimeEntry.deleted_at.is_(None))
            .order_by(TimeEntry.start_at)
        )
        return list(await session.scalars(statement))


def statuses(responses: list[Response]) -> list[int]:
    return sorted(response.status_code for response in responses)


@pytest.mark.committed
async def test_parallel_timer_starts_leave_one_running_entry(
    client: AsyncClient,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    team: Team,
) -> None:
    elsewhere = await make_workspace(session)
    await make_membership(session, elsewhere, team.member)
    await session.commit()
    headers = auth_headers(team.member)

    responses = await asyncio.gather(
        *(
            client.post(
                timer_url(team.workspace if n % 2 else elsewhere, "start"),
                json={"description": f"start {n}"},
                headers=headers,
            )
            for n in range(PARALLEL)
        )
    )
    assert statuses(responses) == [201] * PARALLEL, [r.text for r in responses]
    entries = await entries_of(sessionmaker, team)
    assert len(entries) == PARALLEL
    assert [entry.end_at is None for entry in entries] == [False] * (PARALLEL - 1) + [True]
    # Each start stopped the one before it at its own start: a chain without gaps or overlaps.
    for previous, following in itertools.pairwise(entries):
        assert previous.end_at == following.start_at


@pytest.mark.committed
@pytest.mark.parametrize("running", [True, False], ids=["running", "overlapping"])
async def test_parallel_creates_one_wins_the_rest_are_409(
    client: AsyncClient,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    team: Team,
    running: bool,
) -> None:
    """Ten running entries, or ten finished ones where overlaps are forbidden."""
    team.workspace.prevent_overlaps = not running
    await session.commit()
    # Starts five minutes apart; finished ones last an hour, so every pair overlaps.
    starts = [at(9) + timedelta(minutes=5 * n) for n in range(PARALLEL)]
    bodies = [
        {"start_at": start.isoformat(), "end_at": None if running else (start + HOUR).isoformat()}
        for start in starts
    ]
    responses = await asyncio.gather(
        *(
            client.post(entries_url(team.workspace), json=body, headers=auth_headers(team.member))
            for body in bodies
        )
    )
    assert statuses(responses) == [201] + [409] * (PARALLEL - 1)
    assert len(await entries_of(sessionmaker, team)) == 1


@pytest.mark.committed
async def test_parallel_moves_into_one_slot_leave_no_overlap(
    client: AsyncClient,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    team: Team,
) -> None:
    team.workspace.prevent_overlaps = True
    entries = [
        await make_entry(session, team.workspace, team.member, start_at=at(9, day))
        for day in range(PARALLEL)
    ]
    await session.commit()
    slot = {"start_at": at(9, 20).isoformat(), "end_at": at(10, 20).isoformat()}
    url = entries_url(team.workspace)
    responses = await asyncio.gather(
        *(
            client.patch(f"{url}/{entry.id}", json=slot, headers=auth_headers(team.member))
            for entry in entries
        )
    )
    assert statuses(responses) == [200] + [409] * (PARALLEL - 1)
    moved = [entry for entry in await entries_of(sessionmaker, team) if entry.start_at == at(9, 20)]
    assert len(moved) == 1


async def test_the_running_index_is_the_last_line_of_defence(
    session: AsyncSession, team: Team
) -> None:
    """Should a write slip past the checks, the index refuses it as a conflict, never a 500."""
    await make_entry(session, team.workspace, team.member, start_at=at(9), end_at=None)
    entries = TimeEntryRepository(session, team.workspace.id)
    with pytest.raises(Conflict) as refused:
        await entries.write(None, {"user_id": team.member.id, "start_at": at(10), "end_at": None})
    assert refused.value.detail == RUNNING_CONFLICT
