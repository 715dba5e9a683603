"""Closed time under concurrency: decisions and lock moves race entry writes, in real,
separate transactions. Whatever the interleaving, a write lands wholly before the close
(and is counted) or after it (and is refused)."""

import asyncio
from datetime import timedelta

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.models import Approval, Event, TimeEntry
from app.db.types import utcnow
from app.enums import ApprovalState
from tests.closing import WEEK, midnight
from tests.factories import Team, auth_headers, make_entry
from tests.tracking import at, entries_url

PARALLEL = 30
HOUR = timedelta(hours=1)
BULK = 10
PERIOD_LOCKED = "urn:timesheet:problem:period-locked"


def refused_as_locked(response: Response) -> bool:
    return response.status_code == 409 and response.json()["type"] == PERIOD_LOCKED


@pytest.mark.committed
async def test_an_approval_racing_edits_counts_exactly_the_edits_that_landed(
    client: AsyncClient,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    team: Team,
) -> None:
    """The member's week is submitted; an admin keeps correcting it (creating entries and
    lengthening others) while the owner approves. Every correction either landed before
    the approval, and its totals hold it, or came after and was refused."""
    existing = [
        await make_entry(session, team.workspace, team.member, start_at=at(8, day % 5) + HOUR * day)
        for day in range(PARALLEL // 2 - 1)
    ]
    approval = Approval(
        workspace_id=team.workspace.id,
        user_id=team.member.id,
        period_start=WEEK[0],
        period_end=WEEK[1],
        timezone="UTC",
        starts_at=midnight(WEEK[0]),
        ends_at=midnight(WEEK[1]),
        state=ApprovalState.SUBMITTED,
        submitted_at=utcnow(),
    )
    session.add(approval)
    await session.commit()
    admin = auth_headers(team.admin)
    url = entries_url(team.workspace)
    creates = [
        client.post(
            url,
            json={
                "user_id": str(team.member.id),
                "start_at": (at(0, 5) + HOUR * n).isoformat(),
                "end_at": (at(0, 5) + HOUR * (n + 1)).isoformat(),
            },
            headers=admin,
        )
        for n in range(PARALLEL - len(existing) - 1)
    ]
    lengthen = [
        client.patch(
            f"{url}/{entry.id}", json={"end_at": (entry.end_at + HOUR).isoformat()}, headers=admin
        )
        for entry in existing
    ]
    decide = client.post(
        f"/api/v1/workspaces/{team.workspace.id}/approvals/{approval.id}/approve",
        headers=auth_headers(team.owner),
    )
    *edits, decided = await asyncio.gather(*creates, *lengthen, decide)
    assert decided.status_code == 200, decided.text
    for response in edits:
        assert response.status_code in (200, 201) or refused_as_locked(response), response.text
    async with sessionmaker() as reader:
        entries = (
            await reader.execute(
                select(TimeEntry.start_at, TimeEntry.end_at).where(
                    TimeEntry.user_id == team.member.id
                )
            )
        ).all()
    now_seconds = sum(int((end - start).total_seconds()) for start, end in entries)
    # What the approval counted is what is there: nothing changed after it.
    assert decided.json()["seconds"] == now_seconds
    created = sum(response.status_code == 201 for response in edits)
    lengthened = sum(response.status_code == 200 for response in edits)
    assert now_seconds == 3600 * (len(existing) + created + lengthened)


@pytest.mark.committed
async def test_locked_before_moving_while_bulk_edits_run(
    client: AsyncClient,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    team: Team,
) -> None:
    """Bulk edits of ten days race a close of the first five: each bulk request lands wholly
    before the close, or after it with exactly the closed days refused."""
    entries = [
        await make_entry(session, team.workspace, team.member, start_at=at(9, day))
        for day in range(10)
    ]
    await session.commit()
    ids = [str(entry.id) for entry in entries]
    admin = auth_headers(team.admin)
    bulks = [
        client.patch(
            entries_url(team.workspace),
            json={"ids": ids, "changes": {"description": f"bulk {n}"}},
            headers=admin,
        )
        for n in range(BULK)
    ]
    close = client.patch(
        f"/api/v1/workspaces/{team.workspace.id}",
        json={"locked_before": at(0, 5).isoformat()},
        headers=auth_headers(team.owner),
    )
    # The close goes in the middle, so that some bulk requests run on either side of it.
    responses = await asyncio.gather(*bulks[: BULK // 2], close, *bulks[BULK // 2 :])
    closed = responses.pop(BULK // 2)
    assert closed.status_code == 200, closed.text
    before = [200] * 10
    after = [409] * 5 + [200] * 5
    outcomes = []
    for response in responses:
        assert response.status_code == 200, response.text
        statuses = [result["status"] for result in response.json()["results"]]
        assert statuses in (before, after), statuses
        outcomes.append(statuses == before)
    async with sessionmaker() as reader:
        [lock_event] = await reader.scalars(
            select(Event.sequence).where(
                Event.workspace_id == team.workspace.id, Event.type == "workspace.updated"
            )
        )
        closed_ids = [entry.id for entry in entries[:5]]
        last_closed_edit = await reader.scalar(
            select(func.max(Event.sequence)).where(
                Event.type == "time_entry.updated", Event.subject_id.in_(closed_ids)
            )
        )
    # In commit order too, no closed entry changed after the close.
    if any(outcomes):
        assert last_closed_edit is not None and last_closed_edit < lock_event
    else:
        assert last_closed_edit is None
