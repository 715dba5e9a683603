import math
from datetime import datetime, timedelta

from sqlalchemy import Select, delete, exists, or_, select
from sqlalchemy.orm import aliased

from app.db.models import LoginAttempt
from app.db.types import utcnow
from app.repositories.base import Repository


class LoginAttemptRepository(Repository[LoginAttempt]):
    model = LoginAttempt

    async def record(
        self, email: str, client_ip: str, *, succeeded: bool, window_seconds: int
    ) -> None:
        """Store an attempt and forget this account's and address's attempts that no longer
        count, so the table holds only what the limits read."""
        cutoff = utcnow() - timedelta(seconds=window_seconds)
        await self.session.execute(
            delete(LoginAttempt).where(
                LoginAttempt.created_at < cutoff,
                or_(LoginAttempt.email == email, LoginAttempt.client_ip == client_ip),
            )
        )
        await self.create(email=email, client_ip=client_ip, succeeded=succeeded)

    async def seconds_until_allowed(
        self,
        email: str,
        client_ip: str,
        *,
        max_failures: int,
        max_failures_per_address: int,
        window_seconds: int,
    ) -> int | None:
        """How long a login for `email` from `client_ip` must wait; None when it may go ahead.

        An account counts its failures since its last success, so its owner signing in
        clears them; an address counts all of them, so an attacker cannot clear them by
        signing in to an account of their own.
        """
        now = utcnow()
        window = timedelta(seconds=window_seconds)
        failures = (
            select(LoginAttempt.created_at)
            .where(LoginAttempt.succeeded.is_(False), LoginAttempt.created_at > now - window)
            .order_by(LoginAttempt.created_at.desc())
        )
        later = aliased(LoginAttempt)
        succeeded_later = exists().where(
            later.email == LoginAttempt.email,
            later.succeeded.is_(True),
            later.created_at > LoginAttempt.created_at,
        )
        limits = [
            (failures.where(LoginAttempt.email == email, ~succeeded_later), max_failures),
            (failures.where(LoginAttempt.client_ip == client_ip), max_failures_per_address),
        ]
        waits = [
            wait
            for statement, limit in limits
            if (wait := await self._wait(statement, limit, window, now)) is not None
        ]
        return max(1, math.ceil(max(waits).total_seconds())) if waits else None

    async def _wait(
        self, failures: Select[tuple[datetime]], limit: int, window: timedelta, now: datetime
    ) -> timedelta | None:
        # Of the newest `limit` failures, the oldest is the one whose leaving the window lets
        # the next attempt through.
        newest = list((await self.session.scalars(failures.limit(limit))).all())
        if len(newest) < limit:
            return None
        return newest[-1] + window - now
