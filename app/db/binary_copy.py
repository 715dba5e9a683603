"""Rows in PostgreSQL's binary COPY format, made ahead of the COPY.

The driver encodes the records it copies on the event loop's thread, while the statement
runs. An import makes its rows in the thread that parses the file instead, and the loop
only sends bytes: the database is not kept waiting for the encoding of each row.
"""

import struct
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import BigInteger, Boolean, DateTime, Integer, String, Table, Uuid
from sqlalchemy.types import TypeDecorator, TypeEngine

_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
# The signature, no flags and no header extension; the trailer is a field count of -1.
HEADER = _SIGNATURE + struct.pack("!ii", 0, 0)
TRAILER = struct.pack("!h", -1)
_NULL = struct.pack("!i", -1)
_TRUE, _FALSE = struct.pack("!i?", 1, True), struct.pack("!i?", 1, False)
_UUID_LENGTH = struct.pack("!i", 16)
_SIZED_INT4, _SIZED_INT8 = struct.Struct("!ii").pack, struct.Struct("!iq").pack
_LENGTH = struct.Struct("!i").pack
# timestamptz: microseconds since the turn of 2000 in UTC.
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
# The bytes of a COPY sent at a time.
CHUNK_BYTES = 512 * 1024

Encoder = Callable[[Any], bytes]


def _uuid(value: UUID) -> bytes:
    return _UUID_LENGTH + value.bytes


def _text(value: str) -> bytes:
    encoded = value.encode()
    return _LENGTH(len(encoded)) + encoded


def _timestamptz(value: datetime) -> bytes:
    if value.utcoffset() is None:
        raise ValueError("naive datetime given where a timezone-aware one is required")
    return _SIZED_INT8(8, (value - _EPOCH) // _MICROSECOND)


def _boolean(value: bool) -> bytes:
    return _TRUE if value else _FALSE


def _int4(value: int) -> bytes:
    return _SIZED_INT4(4, value)


def _int8(value: int) -> bytes:
    return _SIZED_INT8(8, value)


def _encoder(column_type: TypeEngine[Any]) -> Encoder:
    if isinstance(column_type, TypeDecorator):
        column_type = column_type.impl_instance
    # Order matters: BigInteger is an Integer, and an Enum stored as text is a String.
    kinds: tuple[tuple[type[TypeEngine[Any]], Encoder], ...] = (
        (Uuid, _uuid),
        (BigInteger, _int8),
        (Integer, _int4),
        (Boolean, _boolean),
        (DateTime, _timestamptz),
        (String, _text),
    )
    for kind, encoder in kinds:
        if isinstance(column_type, kind):
            if kind is DateTime and not column_type.timezone:  # type: ignore[attr-defined]
                break
            return encoder
    raise TypeError(f"no binary COPY encoding for {column_type!r}")


class BinaryRows:
    """Rows of `columns` of `table`, each value encoded as its column's type is sent."""

    def __init__(self, table: Table, columns: Sequence[str]) -> None:
        self.table = table
        self.columns = tuple(columns)
        self._count = struct.pack("!h", len(self.columns))
        self._encoders = tuple(_encoder(table.c[name].type) for name in self.columns)

    def row(self, values: Sequence[Any]) -> bytes:
        """One row: `values` in the order of `columns`, None for NULL."""
        fields = [self._count]
        for encode, value in zip(self._encoders, values, strict=True):
            fields.append(_NULL if value is None else encode(value))
        return b"".join(fields)


async def copy_rows(driver: Any, table: str, columns: Sequence[str], rows: Iterable[bytes]) -> None:
    """COPY rows made by `BinaryRows` into `table` through asyncpg's connection `driver`."""
    payload = b"".join((HEADER, *rows, TRAILER))

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(payload), CHUNK_BYTES):
            yield payload[start : start + CHUNK_BYTES]

    await driver.copy_to_table(table, source=chunks(), columns=list(columns), format="binary")
