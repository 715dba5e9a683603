import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Approval, TimeEntry
from app.enums import ApprovalState
from app.pagination import SortKey
from app.repositories.base import ScopedRepository
from app.repositories.closed_time import CLOSING_STATES

# Newest period first.
BY_PERIOD = SortKey(Approval.starts_at, Approval.id, descending=True)


@dataclass(frozen=True)
class ApprovalFilters:
    """Which approvals a list shows: whose, in which states, and touching which dates."""

    user_id: tuple[uuid.UUID, ...] = ()
    state: tuple[ApprovalState, ...] = ()
    # Periods sharing a day with [period_from, period_to).
    period_from: date | None = None
    period_to: date | None = None


class ApprovalRepository(ScopedRepository[Approval]):
    """Approvals of one workspace; built with `viewer_id`, only that member's own."""

    model = Approval
    not_found_detail = "Approval not found."

    def __init__(
        self, session: AsyncSession, workspace_id: uuid.UUID, *, viewer_id: uuid.UUID | None = None
    ) -> None:
        super().__init__(session, workspace_id)
        self.viewer_id = viewer_id

    def scope(self, statement: Select[tuple[Approval]]) -> Select[tuple[Approval]]:
        statement = super().scope(statement)
        if self.viewer_id is None:
            return statement
        return statement.where(Approval.user_id == self.viewer_id)

    def search(self, filters: ApprovalFilters) -> Select[tuple[Approval]]:
        statement = self.select()
        if filters.user_id:
            statement = statement.where(Approval.user_id.in_(filters.user_id))
        if filters.state:
            statement = statement.where(Approval.state.in_(filters.state))
        if filters.period_from is not None:
            statement = statement.where(Approval.period_end > filters.period_from)
        if filters.period_to is not None:
            statement = statement.where(Approval.period_start < filters.period_to)
        return statement

    async def fresh(self, approval_id: uuid.UUID) -> Approval:
        """The approval as stored now: read again after its user is locked."""
        statement = (
            self.select()
            .where(Approval.id == approval_id)
            .execution_options(populate_existing=True)
        )
        found = (await self.session.scalars(statement)).one_or_none()
        if found is None:
            raise self.not_found()
        return found

    async def closing_overlap(
        self, user_id: uuid.UUID, starts_at: datetime, ends_at: datetime
    ) -> Approval | None:
        """A submitted or approved period of the user sharing time with [starts_at, ends_at)."""
        statement = (
            select(Approval)
            .where(
                Approval.workspace_id == self.workspace_id,
                Approval.user_id == user_id,
                Approval.state.in_(CLOSING_STATES),
                Approval.starts_at < ends_at,
                Approval.ends_at > starts_at,
            )
            .limit(1)
        )
        return (await self.session.scalars(statement)).one_or_none()

    async def running_entries(
        self, user_id: uuid.UUID, starts_at: datetime, ends_at: datetime
    ) -> list[uuid.UUID]:
        """The user's live running entries here that started in [starts_at, ends_at)."""
        statement = select(TimeEntry.id).where(
            TimeEntry.workspace_id == self.workspace_id,
            TimeEntry.user_id == user_id,
            TimeEntry.end_at.is_(None),
            TimeEntry.deleted_at.is_(None),
            TimeEntry.start_at >= starts_at,
            TimeEntry.start_at < ends_at,
        )
        return list(await self.session.scalars(statement))
