"""Every statement a test's requests send to the database, in order: those SQLAlchemy runs
on a cursor, and the prepared statements asyncpg runs itself (`Connection.fetch` and
`Connection.executemany`, which SQLAlchemy's own statements do not use)."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


@contextmanager
def sent_statements(engine: AsyncEngine, record: Callable[[str], None]) -> Iterator[None]:
    # SQLAlchemy's own executemany reaches the driver's too: recorded once, here.
    sqlalchemy_many: list[str] = []

    def on_cursor(_conn, _cursor, statement, _params, _context, executemany) -> None:  # type: ignore[no-untyped-def]
        record(statement)
        if executemany:
            sqlalchemy_many.append(statement)

    fetch = asyncpg.Connection.fetch
    executemany = asyncpg.Connection.executemany

    async def fetch_recorded(connection: asyncpg.Connection, query: str, *args: Any) -> Any:
        record(query)
        return await fetch(connection, query, *args)

    async def executemany_recorded(
        connection: asyncpg.Connection, query: str, args: Any, **options: Any
    ) -> Any:
        if query in sqlalchemy_many:
            sqlalchemy_many.remove(query)
        else:
            record(query)
        return await executemany(connection, query, args, **options)

    event.listen(engine.sync_engine, "before_cursor_execute", on_cursor)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(asyncpg.Connection, "fetch", fetch_recorded)
            patch.setattr(asyncpg.Connection, "executemany", executemany_recorded)
            yield
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", on_cursor)
