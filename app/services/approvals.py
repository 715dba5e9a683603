"""Approvals: a person submits a period of their own time; an admin or the owner approves or
rejects it; the person may withdraw it while it waits; an admin may reopen an approved one.

States and who moves them (each move is an event, `approval.<new state>`):

- `submitted`, by the person whose time it is (any role), for dates in their timezone;
- `submitted` → `approved` or `rejected` (with a note), by an admin or the owner, never by
  the person themselves unless they are the owner (nobody is above them);
- `submitted` → `withdrawn`, by the person;
- `approved` → `reopened`, by an admin or the owner.

A submitted period closes its time to its person, an approved one to everyone
(`closed_time`). Every move locks the person (`TimeEntryRepository.lock_users`), the lock
every write of their entries takes: an edit racing a decision either lands first and is
counted in the decided totals, or comes after and is refused.
"""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Approval
from app.db.types import utcnow
from app.enums import ApprovalState
from app.errors import Conflict, Forbidden, InvalidInput
from app.repositories.approvals import ApprovalRepository
from app.repositories.reports import Measure, ReportRepository
from app.repositories.time_entries import EntryFilters, TimeEntryRepository
from app.services import policies
from app.services.caller import Caller
from app.services.reports import amount_cents, local_midnight

# A year and a day: any week, month or quarter fits, and a period stays something one reviews.
MAX_PERIOD = timedelta(days=366)


class ApprovalService:
    def __init__(self, session: AsyncSession, caller: Caller) -> None:
        self.session = session
        self.caller = caller
        self.workspace = caller.current_workspace()
        self.approvals = ApprovalRepository(
            session, self.workspace.id, viewer_id=policies.entry_viewer(caller)
        )
        self.entries = TimeEntryRepository(session, self.workspace.id)

    async def submit(self, period_start: date, period_end: date) -> Approval:
        """Submit [period_start, period_end) of the caller's own time, read in their timezone."""
        if period_end <= period_start:
            raise InvalidInput("period_end must be after period_start.", field="period_end")
        if period_end - period_start > MAX_PERIOD:
            raise InvalidInput(
                f"A period is at most {MAX_PERIOD.days} days long.", field="period_end"
            )
        user_id = self.caller.user_id
        timezone = self.caller.user.timezone
        zone = ZoneInfo(timezone)
        starts_at, ends_at = local_midnight(period_start, zone), local_midnight(period_end, zone)
        await self.entries.lock_users({user_id})
        other = await self.approvals.closing_overlap(user_id, starts_at, ends_at)
        if other is not None:
            raise Conflict(
                f"The period overlaps approval {other.id} ({other.period_start} to "
                f"{other.period_end}), which is {other.state}."
            )
        running = await self.approvals.running_entries(user_id, starts_at, ends_at)
        if running:
            names = ", ".join(str(entry_id) for entry_id in running)
            raise Conflict(f"Time entries run inside the period: {names}. Stop them first.")
        return await self.approvals.create(
            user_id=user_id,
            period_start=period_start,
            period_end=period_end,
            timezone=timezone,
            starts_at=starts_at,
            ends_at=ends_at,
            state=ApprovalState.SUBMITTED,
            submitted_at=utcnow(),
        )

    async def approve(self, approval: Approval, note: str) -> Approval:
        return await self._decide(approval, ApprovalState.APPROVED, note)

    async def reject(self, approval: Approval, note: str) -> Approval:
        if not note:
            raise InvalidInput("A rejection says why: give a note.", field="note")
        return await self._decide(approval, ApprovalState.REJECTED, note)

    async def withdraw(self, approval: Approval) -> Approval:
        if approval.user_id != self.caller.user_id:
            raise Forbidden("Only the person who submitted a period can withdraw it.")
        approval = await self._locked(approval, ApprovalState.SUBMITTED)
        return await self.approvals.update(approval, {"state": ApprovalState.WITHDRAWN})

    async def reopen(self, approval: Approval, note: str) -> Approval:
        policies.require_admin(self.caller)
        approval = await self._locked(approval, ApprovalState.APPROVED)
        changes = {"state": ApprovalState.REOPENED, "note": note or approval.note}
        return await self.approvals.update(approval, changes)

    async def _decide(self, approval: Approval, state: ApprovalState, note: str) -> Approval:
        policies.may_decide_approval(self.caller, approval.user_id)
        approval = await self._locked(approval, ApprovalState.SUBMITTED)
        # The totals of the period now: under the lock, no edit of its entries is in between.
        filters = EntryFilters(
            user_id=[approval.user_id], from_=approval.starts_at, to=approval.ends_at
        )
        [totals] = await ReportRepository(self.entries).summarize(filters, Measure(), [])
        return await self.approvals.update(
            approval,
            {
                "state": state,
                "note": note,
                "decided_at": utcnow(),
                "decided_by_user_id": self.caller.user_id,
                "seconds": int(totals[0]),
                "billable_seconds": int(totals[1]),
                "amount_cents": amount_cents(totals[2]),
            },
        )

    async def _locked(self, approval: Approval, expected: ApprovalState) -> Approval:
        """The approval read again once its person is locked, if it is still `expected`."""
        await self.entries.lock_users({approval.user_id})
        approval = await self.approvals.fresh(approval.id)
        if approval.state is not expected:
            raise Conflict(f"The approval is {approval.state}, not {expected}.")
        return approval
