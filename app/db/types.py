"""Column types that behave the same on PostgreSQL and SQLite."""

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, Dialect, Enum
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both databases.

    PostgreSQL stores `timestamptz`. SQLite has no timezone type, so values are stored as
    naive UTC text in one fixed format (which keeps string comparison chronological) and
    come back with `tzinfo=UTC`. Naive datetimes are refused rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type[datetime]:
        # TypeDecorator reports `object`, which made keyset cursors keep datetimes as text.
        return datetime

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime given where a timezone-aware one is required")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        # asyncpg hands timestamptz values back in UTC already (`datetime.UTC` as tzinfo):
        # nothing to do per value, and a page of entries reads hundreds of them.
        if dialect.driver == "asyncpg":
            return None
        return super().result_processor(dialect, coltype)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# Integer columns are 32-bit: a larger value fails in the database, so it must fail before.
INT32_MAX = 2**31 - 1


def utcnow() -> datetime:
    return datetime.now(UTC)


def str_enum(enum_class: type[StrEnum], length: int = 32) -> Enum:
    """Store a StrEnum by value as a portable VARCHAR with a CHECK constraint."""
    return Enum(
        enum_class,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
        name=enum_class.__name__.lower(),
    )
