"""Shared report links: a secret that shows one report, read live with the rights of the
member who shared it, to anyone holding the link.

An unknown, revoked or expired secret, and the link of someone who has left the workspace,
all answer the same NotFound. Visits are counted per client address before the secret is
looked up, so guessing secrets (or re-rendering a PDF in a loop) stops at the limit.
"""

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.models import ReportShare
from app.db.types import utcnow
from app.db.unit_of_work import UnitOfWork
from app.enums import AttemptKind
from app.errors import Forbidden, InvalidInput, NotFound, TooManyAttempts
from app.repositories.attempt_counters import AttemptCounterRepository, Count
from app.repositories.report_shares import ReportShareRepository, SharedReportLookup
from app.repositories.users import UserRepository
from app.security import new_secret_token, token_digest
from app.services import policies
from app.services.caller import Caller, SignIn

SECRET_PREFIX = "tsr_"  # noqa: S105 - the mark of a secret, not one
NOT_FOUND = "Shared report not found."


class ReportShareService:
    def __init__(self, session: AsyncSession, caller: Caller) -> None:
        self.caller = caller
        self.shares = ReportShareRepository(
            session, caller.current_workspace().id, viewer_id=policies.entry_viewer(caller)
        )

    async def share(
        self,
        report: str,
        params: dict[str, Any],
        *,
        expires_at: datetime | None,
        show_amounts: bool,
    ) -> tuple[ReportShare, str]:
        """A new link and its secret, which is stored only as a digest. Admins share any
        report; a member's link shows their own time, as their own reports do."""
        if show_amounts and not policies.may_see_rates(self.caller):
            raise Forbidden("You do not see amounts, so your links cannot show them.")
        if expires_at is not None and expires_at <= utcnow():
            raise InvalidInput("The link would expire before it is used.", field="expires_at")
        secret = new_secret_token(SECRET_PREFIX)
        share = await self.shares.create(
            created_by_user_id=self.caller.user_id,
            report=report,
            params=params,
            show_amounts=show_amounts,
            secret_hash=token_digest(secret),
            expires_at=expires_at,
        )
        return share, secret

    async def revoke(self, share: ReportShare) -> None:
        if share.revoked_at is None:
            await self.shares.update(share, {"revoked_at": utcnow()})


async def open_shared_report(
    uow: UnitOfWork, settings: Settings, secret: str, *, client_ip: str
) -> tuple[ReportShare, Caller]:
    """The live link behind `secret` and the sharer as the caller its report is read as.

    The visit is counted per address first, in a transaction of its own, whether or not the
    secret is known."""

    async def count(session: AsyncSession) -> Count:
        return await AttemptCounterRepository(session).count(
            AttemptKind.SHARED_REPORT,
            client_ip,
            window_seconds=settings.shared_report_window_seconds,
        )

    visits = await uow.write_apart(count)
    if visits.attempts > settings.shared_report_max_per_address:
        raise TooManyAttempts(
            "Too many shared report visits from this address; try again later.",
            retry_after=visits.seconds_left(),
        )
    share = await SharedReportLookup(uow.session).find_live(token_digest(secret), utcnow())
    if share is None or share.created_by_user_id is None:
        raise NotFound(NOT_FOUND)
    standing = await UserRepository(uow.session).get_active(
        share.created_by_user_id, share.workspace_id
    )
    if standing is None or standing.membership is None or standing.workspace is None:
        raise NotFound(NOT_FOUND)  # the sharer left, or the workspace is gone
    caller = Caller(standing.user, SignIn.SHARED_LINK).in_workspace(
        standing.workspace, standing.membership
    )
    return share, caller
