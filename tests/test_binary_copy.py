"""Rows made by `BinaryRows` store what the driver's own COPY of the same values stores,
over the instants the application takes (the driver makes infinities of years 1 and 9999)."""

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import binary_copy
from app.db.binary_copy import BinaryRows, copy_rows
from app.db.connection import driver_of
from app.db.types import UTCDateTime, str_enum
from app.enums import EntrySource

KINDS = Table(
    "copied_kinds",
    MetaData(),
    Column("id", Uuid),
    Column("name", String(255)),
    Column("note", Text),
    Column("at", UTCDateTime),
    Column("flag", Boolean),
    Column("small", Integer),
    Column("big", BigInteger),
    Column("source", str_enum(EntrySource)),
)
COLUMNS = tuple(column.name for column in KINDS.columns)
_CREATE = (
    "CREATE TEMPORARY TABLE {} (id uuid, name varchar(255), note text, at timestamptz, "
    "flag boolean, small integer, big bigint, source varchar(32))"
)

ROWS: list[tuple[Any, ...]] = [
    (
        uuid.uuid4(),
        "zażółć gęślą jaźń 🙂",
        "",
        datetime(1999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
        True,
        -(2**31),
        2**63 - 1,
        "import",
    ),
    (
        uuid.UUID(int=0),
        'tab\tquote"back\\slash\nline',
        "x" * 5000,
        datetime(2000, 1, 1, tzinfo=UTC),
        False,
        2**31 - 1,
        -(2**63),
        EntrySource.API,
    ),
    (
        uuid.UUID(int=2**128 - 1),
        None,
        None,
        datetime(2024, 4, 22, 9, 30, 15, 123_456, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        None,
        None,
        None,
        None,
    ),
    (None, "", "a", datetime(1900, 1, 1, tzinfo=UTC), True, 0, 0, "manual"),
    (None, "b", "c", datetime(2999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC), False, 1, 1, None),
]


@pytest.mark.postgres_only
async def test_rows_store_what_the_drivers_copy_stores(session: AsyncSession) -> None:
    connection = await session.connection()
    for table in ("by_driver", "by_rows"):
        await session.execute(text(_CREATE.format(table)))
    driver = driver_of(connection)
    await driver.copy_records_to_table("by_driver", records=ROWS, columns=COLUMNS)
    encoder = BinaryRows(KINDS, COLUMNS)
    await copy_rows(driver, "by_rows", COLUMNS, [encoder.row(row) for row in ROWS])
    ordered = "SELECT * FROM {} ORDER BY at"
    by_driver = (await session.execute(text(ordered.format("by_driver")))).all()
    by_rows = (await session.execute(text(ordered.format("by_rows")))).all()
    assert len(by_rows) == len(ROWS)
    assert by_rows == by_driver


@pytest.mark.postgres_only
async def test_a_copy_longer_than_a_chunk_arrives_whole(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(binary_copy, "CHUNK_BYTES", 7)
    await session.execute(text(_CREATE.format("chunked")))
    encoder = BinaryRows(KINDS, COLUMNS)
    rows = [encoder.row(row) for row in ROWS]
    await copy_rows(driver_of(await session.connection()), "chunked", COLUMNS, rows)
    stored = await session.execute(text("SELECT name, note FROM chunked ORDER BY at"))
    assert stored.all() == [(row[1], row[2]) for row in sorted(ROWS, key=lambda row: row[3])]


def test_naive_times_and_unknown_types_are_refused() -> None:
    encoder = BinaryRows(KINDS, ("at",))
    with pytest.raises(ValueError, match="naive"):
        encoder.row((datetime(2024, 1, 1),))
    with pytest.raises(ValueError):
        encoder.row((datetime.now(UTC), "one too many"))
    documents = Table("documents", MetaData(), Column("body", JSON), Column("at", DateTime))
    for column in ("body", "at"):
        with pytest.raises(TypeError, match="no binary COPY encoding"):
            BinaryRows(documents, (column,))
