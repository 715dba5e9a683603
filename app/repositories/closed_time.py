"""Closed time as storage holds it: the workspace's `locked_before`, and the submitted and
approved periods of its people.

The rule itself (what is closed to whom) is `app.services.closed_time`; this module gives
it its one query, and the read side the same facts as SQL expressions: why each entry is
closed, in the statement that reads it, so a page of entries costs no extra statement.
"""

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    bindparam,
    case,
    exists,
    literal_column,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.db.models import Approval, TimeEntry, Workspace
from app.db.prepared import Prepared, read_rows
from app.db.types import UTCDateTime
from app.enums import ApprovalState, LockReason

# The states in which a period closes its time; the others are history.
CLOSING_STATES = (ApprovalState.SUBMITTED, ApprovalState.APPROVED)


def covers(approval: type[Approval], entry: type[TimeEntry]) -> ColumnElement[bool]:
    """A submitted or approved period of the entry's user that its start falls in."""
    return and_(
        approval.workspace_id == entry.workspace_id,
        approval.user_id == entry.user_id,
        approval.state.in_(CLOSING_STATES),
        approval.starts_at <= entry.start_at,
        approval.ends_at > entry.start_at,
    )


# Aliases: a report may join `approvals` itself to group by it, and a subquery over the
# same table would then correlate to the join instead of reading on its own.
_covering = aliased(Approval)
_workspace = aliased(Workspace)

# The state (`submitted`, `approved`) of the period the entry's start falls in; null: none.
APPROVAL_STATE: ColumnElement[str | None] = (
    select(type_coerce(_covering.state, String))
    .where(covers(_covering, TimeEntry))  # type: ignore[arg-type]
    .limit(1)
    .scalar_subquery()
)
_LOCKED_BEFORE = (
    select(_workspace.locked_before)
    .where(_workspace.id == TimeEntry.workspace_id)
    .scalar_subquery()
)
# Why the entry is closed (`LockReason`), or null: the closed period first, then approvals.
LOCK_REASON = case(
    (TimeEntry.start_at < _LOCKED_BEFORE, literal_column(f"'{LockReason.CLOSED_PERIOD}'")),
    else_=APPROVAL_STATE,
).label("locked_reason")


def in_period(states: Sequence[ApprovalState] = CLOSING_STATES) -> ColumnElement[bool]:
    """Entries whose start falls in a period of their person in one of `states`: the
    filters' form of `APPROVAL_STATE`, a semi-join the planner runs before paging."""
    covering = aliased(Approval)
    return exists().where(
        covers(covering, TimeEntry),  # type: ignore[arg-type]
        covering.state.in_(states),
    )


def in_closed_time() -> ColumnElement[bool]:
    """Entries whose time is closed, for any reason: the filters' form of `LOCK_REASON`."""
    # Spelled so that it is false, never null, without a `locked_before`: negated, the
    # open entries are then those it is false for.
    before = and_(_LOCKED_BEFORE.is_not(None), TimeEntry.start_at < _LOCKED_BEFORE)
    return or_(before, in_period())


@dataclass(frozen=True)
class ClosingApproval:
    """A submitted or approved period, as the closed-time rule needs it."""

    id: uuid.UUID
    user_id: uuid.UUID
    state: ApprovalState
    starts_at: datetime
    ends_at: datetime
    period_start: date
    period_end: date


_WORKSPACES, _APPROVALS = Workspace.__table__, Approval.__table__
# Built once: a write reads it every time, and the values are bound.
_CLOSED_TIME = Prepared(
    select(
        _WORKSPACES.c.locked_before,
        _APPROVALS.c.id,
        _APPROVALS.c.user_id,
        _APPROVALS.c.state,
        _APPROVALS.c.starts_at,
        _APPROVALS.c.ends_at,
        _APPROVALS.c.period_start,
        _APPROVALS.c.period_end,
    )
    .select_from(_WORKSPACES)
    .outerjoin(
        _APPROVALS,
        and_(
            _APPROVALS.c.workspace_id == _WORKSPACES.c.id,
            _APPROVALS.c.user_id.in_(bindparam("user_ids", expanding=True)),
            _APPROVALS.c.state.in_(CLOSING_STATES),
            _APPROVALS.c.ends_at > bindparam("earliest", type_=UTCDateTime),
            _APPROVALS.c.starts_at <= bindparam("latest", type_=UTCDateTime),
        ),
    )
    .where(_WORKSPACES.c.id == bindparam("workspace_id"))
    .order_by(_APPROVALS.c.starts_at)
)


async def load_closed_time(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    user_ids: Collection[uuid.UUID],
    earliest: datetime,
    latest: datetime,
) -> tuple[datetime | None, list[ClosingApproval]]:
    """The workspace's `locked_before` and the periods of `user_ids` that close time and
    hold a start between `earliest` and `latest`, in one statement.

    Read after the users are locked (`TimeEntryRepository.lock_users`): a decision on one
    of their periods, or a move of `locked_before`, then either committed before and is
    seen here, or waits for this transaction.
    """
    parameters = {
        "workspace_id": workspace_id,
        "user_ids": list(user_ids),
        "earliest": earliest,
        "latest": latest,
    }
    rows = await read_rows(session, _CLOSED_TIME, parameters)
    locked_before = rows[0][0] if rows else None
    approvals = [ClosingApproval(*row[1:]) for row in rows if row[1] is not None]
    return locked_before, approvals
