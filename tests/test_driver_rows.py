"""Rows made by `DriverRows` and sent by the bare driver store what SQLAlchemy's own
statement stores for the same values, on either database."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import Column, MetaData, Table, insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.connection import driver_of
from app.db.driver_rows import DriverRows
from tests.test_binary_copy import COLUMNS, KINDS, ROWS


def _like_kinds(name: str, metadata: MetaData) -> Table:
    return Table(name, metadata, *(Column(c.name, c.type) for c in KINDS.columns))


async def _stored(session: AsyncSession, table: Table) -> list[str]:
    # Untyped: the values as the database hands them back, before any conversion.
    rows = await session.execute(text(f"SELECT * FROM {table.name}"))  # noqa: S608 - constant
    return sorted(repr(tuple(row)) for row in rows)


async def test_rows_store_what_the_statement_stores(session: AsyncSession) -> None:
    metadata = MetaData()
    by_statement, by_rows = _like_kinds("by_statement", metadata), _like_kinds("by_rows", metadata)
    connection = await session.connection()
    await connection.run_sync(metadata.create_all)
    await session.execute(
        insert(by_statement), [dict(zip(COLUMNS, row, strict=True)) for row in ROWS]
    )

    dialect = connection.dialect
    rows = DriverRows(by_rows, COLUMNS, dialect)
    marks = [f"${n}" for n in range(1, len(COLUMNS) + 1)]
    if dialect.name == "sqlite":
        marks = ["?"] * len(COLUMNS)
    listed = f"({', '.join(COLUMNS)}) VALUES ({', '.join(marks)})"
    statement = f"INSERT INTO by_rows {listed}"
    await driver_of(connection).executemany(statement, [rows.row(row) for row in ROWS])

    stored = await _stored(session, by_rows)
    assert len(stored) == len(ROWS)
    assert stored == await _stored(session, by_statement)


def test_values_are_checked_as_the_statement_checks_them(session: AsyncSession) -> None:
    rows = DriverRows(KINDS, ("at", "source"), session.bind.dialect)
    with pytest.raises(ValueError, match="naive"):
        rows.row((datetime(2024, 1, 1), None))
    with pytest.raises(LookupError):
        rows.row((datetime.now(UTC), "not a source"))
    with pytest.raises(ValueError):
        rows.row((datetime.now(UTC),))
