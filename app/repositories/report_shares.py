import uuid
from datetime import datetime

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import ReportShare
from app.repositories.base import Repository, ScopedRepository


class ReportShareRepository(ScopedRepository[ReportShare]):
    """A workspace's shared report links; built with `viewer_id`, only that member's own."""

    model = ReportShare
    not_found_detail = "Shared report not found."

    def __init__(
        self, session: AsyncSession, workspace_id: uuid.UUID, *, viewer_id: uuid.UUID | None = None
    ) -> None:
        super().__init__(session, workspace_id)
        self.viewer_id = viewer_id

    def scope(self, statement: Select[tuple[ReportShare]]) -> Select[tuple[ReportShare]]:
        statement = super().scope(statement)
        if self.viewer_id is None:
            return statement
        return statement.where(ReportShare.created_by_user_id == self.viewer_id)

    def live(self, now: datetime) -> Select[tuple[ReportShare]]:
        """Links that still open: not revoked, not expired."""
        return self.select().where(
            ReportShare.revoked_at.is_(None),
            or_(ReportShare.expires_at.is_(None), ReportShare.expires_at > now),
        )


class SharedReportLookup(Repository[ReportShare]):
    """A link by its secret's digest, whatever the workspace: the secret is the access."""

    model = ReportShare

    async def find_live(self, secret_hash: str, now: datetime) -> ReportShare | None:
        statement = select(ReportShare).where(
            ReportShare.secret_hash == secret_hash,
            ReportShare.revoked_at.is_(None),
            or_(ReportShare.expires_at.is_(None), ReportShare.expires_at > now),
        )
        return (await self.session.scalars(statement)).one_or_none()
