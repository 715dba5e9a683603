"""The unit of work: one transaction, committed in exactly one place, for the API and the CLI.

Repositories flush, services decide, and the unit of work commits when the work succeeded or
rolls back when it raised. A few records must outlast a refused request (a failed sign-in
counts towards the limit, a reused refresh token's family stays revoked): `keep_regardless`
writes them in a short transaction of their own once the work has ended, committed or not,
so that the refusal can simply be raised.
"""

from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.engine import Sessions

Record = Callable[[AsyncSession], Awaitable[object]]


class UnitOfWork:
    session: AsyncSession

    def __init__(self, sessions: Sessions, *, read_only: bool = False) -> None:
        self._sessions = sessions
        # Work that only reads says so up front, and the database serves it more cheaply.
        self._read_only = read_only
        self._kept: list[Record] = []

    async def __aenter__(self) -> Self:
        if self._read_only:
            self.session = self._sessions.reading()
        else:
            await self._sessions.queue_writer()
            self.session = self._sessions.writing()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None:
                await self.session.commit()
            else:
                await self.session.rollback()
        finally:
            await self.session.close()
            if not self._read_only:
                self._sessions.release_writer()
            await self._write_kept()

    def keep_regardless(self, record: Record) -> None:
        """Write `record` after this unit of work ends, whether it commits or rolls back."""
        self._kept.append(record)

    async def _write_kept(self) -> None:
        # After the main transaction has ended, so that SQLite's single writer is free.
        kept, self._kept = self._kept, []
        for record in kept:
            await self._sessions.queue_writer()
            try:
                async with self._sessions.writing() as session:
                    await record(session)
                    await session.commit()
            finally:
                self._sessions.release_writer()
