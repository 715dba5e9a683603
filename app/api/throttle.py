"""Limits on password guessing, shared by sign-in and password change."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from app.api.deps import SessionDep, SettingsDep
from app.config import Settings
from app.errors import TooManyRequests
from app.repositories.login_attempts import LoginAttemptRepository

# One address may fail this many times more than one account, so that a few people behind
# one NAT who mistype do not lock each other out while spraying many accounts still stops.
ADDRESS_FACTOR = 4


@dataclass(frozen=True)
class PasswordThrottle:
    attempts: LoginAttemptRepository
    settings: Settings
    client_ip: str

    async def check(self, email: str) -> None:
        """Refuse with 429 before the password is even looked at when the limit is reached."""
        wait = await self.attempts.seconds_until_allowed(
            email,
            self.client_ip,
            max_failures=self.settings.login_max_failures,
            max_failures_per_address=self.settings.login_max_failures * ADDRESS_FACTOR,
            window_seconds=self.settings.login_failure_window_seconds,
        )
        if wait is not None:
            raise TooManyRequests("Too many wrong passwords; try again later.", retry_after=wait)

    async def record(self, email: str, *, succeeded: bool) -> None:
        await self.attempts.record(
            email,
            self.client_ip,
            succeeded=succeeded,
            window_seconds=self.settings.login_failure_window_seconds,
        )


def password_throttle(
    request: Request, session: SessionDep, settings: SettingsDep
) -> PasswordThrottle:
    client_ip = request.client.host if request.client else "unknown"
    return PasswordThrottle(LoginAttemptRepository(session), settings, client_ip)


Throttle = Annotated[PasswordThrottle, Depends(password_throttle)]
