"""Every statement a test's requests send to the database, in order: those SQLAlchemy runs
on a cursor, and the prepared reads asyncpg runs itself (`Connection.fetch`, which
SQLAlchemy's own statements do not use)."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


@contextmanager
def sent_statements(engine: AsyncEngine, record: Callable[[str], None]) -> Iterator[None]:
    def on_cursor(_conn, _cursor, statement, _params, _context, _executemany) -> None:  # type: ignore[no-untyped-def]
        record(statement)

    fetch = asyncpg.Connection.fetch

    async def fetch_recorded(connection: asyncpg.Connection, query: str, *args: Any) -> Any:
        record(query)
        return await fetch(connection, query, *args)

    event.listen(engine.sync_engine, "before_cursor_execute", on_cursor)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(asyncpg.Connection, "fetch", fetch_recorded)
            yield
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", on_cursor)
