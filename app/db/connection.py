"""The connection a session's transaction runs on, looked up once per transaction.

Core reads run on it directly. Asking the session each time costs a trip through its
transaction bookkeeping and a greenlet switch per statement; the connection cannot change
until the transaction ends, so it is kept until then.
"""

from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

_CONNECTION = "transaction_connection"
# An engine's execution option: its connections reach the database through a pool that hands
# each transaction, and each statement outside one, to any server connection (PgBouncer).
POOLED_BY_TRANSACTION = "pooled_by_transaction"


async def connection_of(session: AsyncSession) -> AsyncConnection:
    found: AsyncConnection | None = session.info.get(_CONNECTION)
    if found is None:
        found = session.info[_CONNECTION] = await session.connection()
    return found


def driver_of(connection: AsyncConnection | Connection) -> Any:
    """The driver's own connection under a checked-out `connection` (asyncpg's, for COPY
    and prepared statements)."""
    if isinstance(connection, AsyncConnection):
        connection = connection.sync_connection
    return connection.connection.driver_connection


def hold(session: AsyncSession, connection: AsyncConnection) -> None:
    """Make `connection`, to which the session is bound, its transaction's connection from the
    start, without the session's own transaction bookkeeping."""
    session.info[_CONNECTION] = connection


def _forget(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_CONNECTION, None)


event.listen(Session, "after_transaction_end", _forget)
