"""Rows in the driver's own types, made ahead of the statement that sends them.

SQLAlchemy converts each value of an `executemany` (on SQLite: UUIDs and datetimes to
text) on the event loop's thread, while the database waits. An import makes its rows
through the same conversions in the thread that parses the file instead, and hands them
to the driver as they are.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Dialect, Table


class DriverRows:
    """Rows of `columns` of `table`, each value converted as its column's type binds it on
    `dialect`."""

    def __init__(self, table: Table, columns: Sequence[str], dialect: Dialect) -> None:
        self._processors = tuple(
            table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns
        )

    def row(self, values: Sequence[Any]) -> tuple[Any, ...]:
        """One row: `values` in the order of `columns`."""
        return tuple(
            value if process is None else process(value)
            for process, value in zip(self._processors, values, strict=True)
        )
