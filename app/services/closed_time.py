"""The one rule "this change touches closed time", for every path that writes entries.

Time is closed before the workspace's `locked_before` (to everyone), inside a submitted
period (to the person who submitted it: admins may still correct it until it is decided)
and inside an approved period (to everyone). An entry belongs to the period its start
falls in, as in reports; a change touches closed time when the entry's start, before or
after the change, falls in time closed to the one making it.

Callers lock the users whose time they write (`TimeEntryRepository.lock_users`), then
`load` their closed time once and ask `check` for each entry, old and new; the checks are
pure, so a bulk request or an import batch asks one query however many entries it holds.
The paths that call it are listed in docs/architecture.md ("Closed time").
"""

import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.enums import ApprovalState, LockReason
from app.errors import PeriodLocked
from app.repositories.closed_time import ClosingApproval, load_closed_time


def locked_before_detail(locked_before: datetime) -> str:
    instant = locked_before.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return f"Time before {instant} is closed in this workspace."


def approval_detail(approval: ClosingApproval) -> str:
    closed_to = "its person" if approval.state is ApprovalState.SUBMITTED else "everyone"
    return (
        f"The period {approval.period_start} to {approval.period_end} (end excluded) is "
        f"{approval.state} (approval {approval.id}); its time is closed to {closed_to}."
    )


@dataclass(frozen=True)
class ClosedTime:
    """The closed time of some users of one workspace, as `actor_id` meets it."""

    actor_id: uuid.UUID
    locked_before: datetime | None
    approvals: list[ClosingApproval] = field(default_factory=list)
    # What was loaded: these users' periods holding a start in [earliest, latest].
    user_ids: frozenset[uuid.UUID] = frozenset()
    earliest: datetime | None = None
    latest: datetime | None = None

    def covers(self, user_ids: Collection[uuid.UUID], starts: Iterable[datetime]) -> bool:
        """Whether this answers for these users and starts without loading again."""
        if self.earliest is None or self.latest is None or not set(user_ids) <= self.user_ids:
            return False
        return all(self.earliest <= start <= self.latest for start in starts)

    def _approval(self, user_id: uuid.UUID, start_at: datetime) -> ClosingApproval | None:
        for approval in self.approvals:
            if approval.user_id == user_id and approval.starts_at <= start_at < approval.ends_at:
                return approval
        return None

    def reason(self, user_id: uuid.UUID, start_at: datetime) -> LockReason | None:
        """Why an entry of `user_id` starting at `start_at` is closed, to anyone; None: open."""
        if self.locked_before is not None and start_at < self.locked_before:
            return LockReason.CLOSED_PERIOD
        approval = self._approval(user_id, start_at)
        return None if approval is None else LockReason(approval.state.value)

    def check(self, user_id: uuid.UUID, start_at: datetime) -> None:
        """Refuse, naming the period, when that time is closed to the actor."""
        if self.locked_before is not None and start_at < self.locked_before:
            raise PeriodLocked(locked_before_detail(self.locked_before))
        approval = self._approval(user_id, start_at)
        if approval is None:
            return
        if approval.state is ApprovalState.SUBMITTED and user_id != self.actor_id:
            return  # a submitted period is closed to its person only
        raise PeriodLocked(approval_detail(approval))


async def load(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    actor_id: uuid.UUID,
    user_ids: Collection[uuid.UUID],
    starts: Collection[datetime],
) -> ClosedTime:
    """The closed time of `user_ids` around `starts`; lock the users first."""
    earliest, latest = min(starts), max(starts)
    locked_before, approvals = await load_closed_time(
        session, workspace_id, user_ids, earliest, latest
    )
    return ClosedTime(
        actor_id, locked_before, approvals, frozenset(user_ids), earliest=earliest, latest=latest
    )
