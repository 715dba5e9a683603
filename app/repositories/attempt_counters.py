import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, update
from sqlalchemy.dialects import postgresql, sqlite

from app.db.models import AttemptCounter
from app.db.types import utcnow
from app.enums import AttemptKind
from app.repositories.base import Repository

_COUNTERS = AttemptCounter.__table__


@dataclass(frozen=True)
class Count:
    """A subject's attempts in its current window, this one included."""

    attempts: int
    window_ends_at: datetime

    def seconds_left(self) -> int:
        """Until the window ends and counting starts over."""
        return max(1, math.ceil((self.window_ends_at - utcnow()).total_seconds()))


class AttemptCounterRepository(Repository[AttemptCounter]):
    model = AttemptCounter

    async def count(self, kind: AttemptKind, subject: str, *, window_seconds: int) -> Count:
        """Add this attempt to the subject's count and return the count.

        One upsert, atomic on both databases: of concurrent attempts each gets a count of
        its own (the row stays locked until the transaction ends), so a limit lets exactly
        as many through as it says. A window that has ended starts over at one. Windows of
        this kind that ended are forgotten on the way, so the table holds only live counts.
        """
        now = utcnow()
        window = timedelta(seconds=window_seconds)
        await self.session.execute(
            delete(AttemptCounter).where(
                AttemptCounter.kind == kind, AttemptCounter.window_started_at <= now - window
            )
        )
        dialect = postgresql if self.session.bind.dialect.name == "postgresql" else sqlite
        fresh = dialect.insert(_COUNTERS).values(
            kind=kind, subject=subject, attempts=1, window_started_at=now
        )
        ended = _COUNTERS.c.window_started_at <= now - window
        statement = fresh.on_conflict_do_update(
            index_elements=[_COUNTERS.c.kind, _COUNTERS.c.subject],
            set_={
                "attempts": case((ended, fresh.excluded.attempts), else_=_COUNTERS.c.attempts + 1),
                "window_started_at": case(
                    (ended, fresh.excluded.window_started_at),
                    else_=_COUNTERS.c.window_started_at,
                ),
            },
        ).returning(_COUNTERS.c.attempts, _COUNTERS.c.window_started_at)
        attempts, started_at = (await self.session.execute(statement)).one()
        return Count(attempts, started_at + window)

    async def forget(self, kind: AttemptKind, subject: str) -> None:
        await self.session.execute(
            delete(AttemptCounter).where(
                AttemptCounter.kind == kind, AttemptCounter.subject == subject
            )
        )

    async def take_back(self, kind: AttemptKind, subject: str) -> None:
        """Uncount one attempt: one that turned out not to be what the limit is about."""
        await self.session.execute(
            update(AttemptCounter)
            .where(
                AttemptCounter.kind == kind,
                AttemptCounter.subject == subject,
                AttemptCounter.attempts > 0,
            )
            .values(attempts=AttemptCounter.attempts - 1)
        )
