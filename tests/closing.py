"""Shared by the closed-time tests: closing a person's week in each of the ways time closes."""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Approval, User, Workspace
from app.db.types import utcnow
from app.enums import ApprovalState
from tests.tracking import MONDAY

STATES = ["closed_period", "submitted", "approved", "open"]
# The test week, as a period: Monday 2024-04-22 to the next Monday.
WEEK = (date(2024, 4, 22), date(2024, 4, 29))


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


async def close(
    session: AsyncSession,
    workspace: Workspace,
    user: User,
    state: str,
    period: tuple[date, date] = WEEK,
) -> Approval | None:
    """Close `period` of `user`'s time: before `locked_before` (everyone's time up to the
    period's end), in a submitted or an approved approval, or not at all (`open`)."""
    if state == "closed_period":
        workspace.locked_before = midnight(period[1])
        await session.flush()
        return None
    if state == "open":
        return None
    approval = Approval(
        workspace_id=workspace.id,
        user_id=user.id,
        period_start=period[0],
        period_end=period[1],
        timezone="UTC",
        starts_at=midnight(period[0]),
        ends_at=midnight(period[1]),
        state=ApprovalState(state),
        submitted_at=utcnow(),
    )
    session.add(approval)
    await session.flush()
    return approval


def this_week() -> tuple[date, date]:
    """A period holding now, for the timer."""
    today = utcnow().date()
    return today - timedelta(days=3), today + timedelta(days=4)


def refused(state: str, *, own_time: bool) -> bool:
    """Whether a change to time in `state` is refused: a closed or approved period to
    everyone, a submitted one to the person whose time it is."""
    return state in ("closed_period", "approved") or (state == "submitted" and own_time)


assert midnight(WEEK[0]) == MONDAY
