"""The unit of work: one transaction, committed in exactly one place, for the API and the CLI.

Repositories flush, services decide, and the unit of work commits when the work succeeded or
rolls back when it raised. A few records must outlast a refused request (a reused refresh
token's family stays revoked): `keep_regardless` writes them in a short transaction of their
own once the work has ended, committed or not, so that the refusal can simply be raised.
Counts that decide whether the work may go on at all (attempts against a limit) are written
by `write_apart`, in a transaction of their own committed before the work goes on.
"""

import uuid
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Self, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.db import events
from app.db.connection import hold
from app.db.engine import Sessions
from app.enums import EventOrigin

T = TypeVar("T")
Record = Callable[[AsyncSession], Awaitable[T]]


class UnitOfWork:
    session: AsyncSession
    # Work that only reads holds a connection of its own, without a session transaction.
    _connection: AsyncConnection | None = None

    def __init__(
        self,
        sessions: Sessions,
        *,
        read_only: bool = False,
        origin: EventOrigin = EventOrigin.CLI,
        request_id: str | None = None,
    ) -> None:
        self._sessions = sessions
        # Work that only reads says so up front, and the database serves it more cheaply.
        self._read_only = read_only
        self._kept: list[Record[object]] = []
        self._context = events.EventContext(origin=origin, request_id=request_id)

    async def __aenter__(self) -> Self:
        if self._read_only and self._sessions.reader is not None:
            # Its reads run on the connection, so the session's transaction bookkeeping
            # (begun, tracked and closed on every request) is left out; an ORM read
            # through the session still runs on the same connection.
            self._connection = await self._sessions.reader.connect()
            self.session = self._sessions.reading(bind=self._connection)
            hold(self.session, self._connection)
        elif self._read_only:
            self.session = self._sessions.reading()
        else:
            await self._sessions.queue_writer()
            self.session = self._sessions.writing()
        events.bind(self.session, self._context)
        return self

    def act_as(self, actor_id: uuid.UUID | None) -> None:
        """Name who the changes of this work are made by, in their events."""
        self._context.actor_id = actor_id

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            # Work that only reads has nothing to commit: closing ends its transaction.
            if exc_type is None and not self._read_only:
                await self.session.commit()
            elif exc_type is not None:
                await self.session.rollback()
        finally:
            # A session bound to the work's own connection holds nothing to give back
            # unless it began a transaction on it (an ORM read).
            if self._connection is None or self.session.in_transaction():
                await self.session.close()
            if self._connection is not None:
                await self._connection.close()
            if not self._read_only:
                self._sessions.release_writer()
            await self._write_kept()

    async def commit_so_far(self) -> None:
        """Commit the work done so far and go on in a new transaction, for long work that
        must not hold its locks throughout (an import commits each batch). On SQLite the
        writers of this process waiting for their turn take it in between."""
        await self.session.commit()
        if not self._read_only:
            self._sessions.release_writer()
            await self._sessions.queue_writer()

    def keep_regardless(self, record: Record[object]) -> None:
        """Write `record` after this unit of work ends, whether it commits or rolls back."""
        self._kept.append(record)

    async def write_apart(self, record: Record[T]) -> T:
        """Write `record` in a short transaction of its own, committed before this returns
        whatever happens to the work afterwards, and return what it returned.

        Call it before the work has written anything. The work's transaction so far, which
        has only read, ends here and a new one begins with its next statement: so the work
        never holds a connection (or SQLite's write lock) while it waits for a second one.
        """
        await self.session.commit()
        # A writing unit of work already holds this process's turn at SQLite's writer.
        return await self._write_alone(record, queue=self._read_only)

    async def _write_kept(self) -> None:
        # After the main transaction has ended, so that SQLite's single writer is free.
        kept, self._kept = self._kept, []
        for record in kept:
            await self._write_alone(record, queue=True)

    async def _write_alone(self, record: Record[T], *, queue: bool) -> T:
        if queue:
            await self._sessions.queue_writer()
        try:
            async with self._sessions.writing() as session:
                result = await record(session)
                await session.commit()
                return result
        finally:
            if queue:
                self._sessions.release_writer()
