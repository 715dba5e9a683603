"""Hot statements, compiled once and handed to the driver as they are.

The statements every request sends (the caller's standing, one entry, a write's references,
closed time, tag links and events) are Core statements built once, with named parameters.
Through SQLAlchemy each run still costs about 200 µs of Python on top of the driver's own
work: the compiled-cache lookup, an execution context, parameter processing, a greenlet hop,
then `Result` and `Row` objects. A `Prepared` statement is compiled once per dialect instead
(and once per length of each IN list it takes, up to `MAX_LIST_VARIANT`); a run only puts its
parameters in order and gives them to asyncpg on the unit of work's connection, and the rows
come back as named tuples with SQLAlchemy's result processing (enums) applied, read by
attribute like SQLAlchemy's rows.

A read goes to the driver on PostgreSQL in autocommit (work that only reads) and in a
transaction alike. SQLAlchemy sends BEGIN with the first statement it runs itself, so a read
sent before then runs ahead of the transaction: under READ COMMITTED, where every statement
sees its own snapshot, that is the same read, as long as it takes no lock and the transaction
has written nothing (before BEGIN it has not). A write, and a read that locks (`FOR UPDATE`),
belong to the transaction: they go to the driver once it has begun on the server. Through
PgBouncer, which may hand each statement outside a transaction to another server, reads wait
for BEGIN too. Everything else, SQLite included, runs the same statement through SQLAlchemy.
"""

from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import Connection, Executable, Select, Table, TextClause, UpdateBase
from sqlalchemy.engine import Compiled, Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.util import await_only

from app.db.connection import POOLED_BY_TRANSACTION, connection_of, driver_of

# IN lists longer than this run through SQLAlchemy: each length is a statement of its own.
MAX_LIST_VARIANT = 8


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # The statement's parameter names in the driver's positional order, with the values of
    # those the statement fixes itself (literals), already processed for the driver.
    order: tuple[str, ...]
    fixed: Mapping[str, Any]
    # Each IN list's parameter, with the names its values take in the text.
    lists: tuple[tuple[str, tuple[str, ...]], ...]
    # Those of the parameters each run gives that the driver takes in another form.
    bind_processors: tuple[tuple[str, Callable[[Any], Any]], ...]
    # None: the statement names no columns (text); its rows are the driver's records.
    row: type | None
    result_processors: tuple[tuple[int, Callable[[Any], Any]], ...]

    def arguments(self, parameters: Mapping[str, Any]) -> list[Any]:
        values = {**self.fixed, **parameters}
        for name, names in self.lists:
            values.update(zip(names, parameters[name], strict=True))
        for name, process in self.bind_processors:
            values[name] = process(values[name])
        return [values[name] for name in self.order]

    def rows(self, records: Sequence[Any]) -> list[Any]:
        if self.row is None:
            return list(records)
        if not self.result_processors:
            return [self.row._make(record) for record in records]
        rows = []
        for record in records:
            values = list(record)
            for index, process in self.result_processors:
                values[index] = process(values[index])
            rows.append(self.row._make(values))
        return rows


class Prepared:
    """A statement built once at import, with named bind parameters: a select, a write
    (with or without RETURNING), or text."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        # A write or a lock is the transaction's: it must run inside it.
        self._in_transaction_only = not isinstance(statement, Select) or (
            statement._for_update_arg is not None
        )
        # Compiled on the driver's dialect at the first run, with the IN lists it takes.
        self._compiled: Compiled | None = None
        self._lists: tuple[str, ...] = ()
        # By the lengths of the IN lists a run gives, in `_lists` order.
        self._variants: dict[tuple[int, ...], _Compiled] = {}

    async def rows(self, connection: AsyncConnection, parameters: Mapping[str, Any]) -> list[Any]:
        compiled, driver = self._on_driver(connection.sync_connection, parameters)
        if compiled is None:
            return list((await connection.execute(self.statement, parameters)).all())
        arguments = compiled.arguments(parameters)
        with _refusals_as_sqlalchemy(compiled.sql, arguments):
            return compiled.rows(await driver.fetch(compiled.sql, *arguments))

    def rows_in_greenlet(self, connection: Connection, parameters: Mapping[str, Any]) -> list[Any]:
        """`rows`, from the synchronous code SQLAlchemy runs (session hooks) on `connection`."""
        compiled, driver = self._on_driver(connection, parameters)
        if compiled is None:
            return list(connection.execute(self.statement, parameters).all())
        arguments = compiled.arguments(parameters)
        with _refusals_as_sqlalchemy(compiled.sql, arguments):
            return compiled.rows(await_only(driver.fetch(compiled.sql, *arguments)))

    async def execute(self, connection: AsyncConnection, parameters: Mapping[str, Any]) -> None:
        """Run a statement whose rows, if any, are not wanted."""
        await self.execute_many(connection, [parameters])

    async def execute_many(
        self, connection: AsyncConnection, parameters: Sequence[Mapping[str, Any]]
    ) -> None:
        """Run the statement once for each of `parameters`, which all give the same names."""
        compiled, driver = self._on_driver(connection.sync_connection, parameters[0])
        if compiled is None:
            await connection.execute(self.statement, list(parameters))
            return
        arguments = [compiled.arguments(each) for each in parameters]
        with _refusals_as_sqlalchemy(compiled.sql, arguments):
            if len(arguments) == 1:
                # The driver's executemany is a pipeline, dearer than one plain run.
                await driver.fetch(compiled.sql, *arguments[0])
            else:
                await driver.executemany(compiled.sql, arguments)

    def _on_driver(
        self, connection: Connection, parameters: Mapping[str, Any]
    ) -> tuple[_Compiled | None, Any]:
        """The compiled variant for `parameters` and the driver's connection to run it on,
        or None where the statement runs through SQLAlchemy."""
        driver = _settled_driver(connection, in_transaction_only=self._in_transaction_only)
        if driver is None:
            return None, None
        return self._variant(connection.dialect, parameters), driver

    def _variant(self, dialect: Dialect, parameters: Mapping[str, Any]) -> _Compiled | None:
        if self._compiled is None:
            self._compiled = self.statement.compile(dialect=dialect)
            self._lists = tuple(
                name
                for name, bind in self._compiled.binds.items()
                if bind.required and bind.expanding
            )
        lengths = {name: len(parameters[name]) for name in self._lists}
        key = tuple(lengths.values())
        found = self._variants.get(key)
        if found is None and all(length <= MAX_LIST_VARIANT for length in key):
            found = self._variants[key] = self._compile(self._compiled, dialect, lengths)
        return found

    def _compile(
        self, compiled: Compiled, dialect: Dialect, lengths: Mapping[str, int]
    ) -> _Compiled:
        # Python-side defaults (`updated_at` on update) are worked out by SQLAlchemy as it
        # runs a statement: the driver would get None for them.
        defaulted = [*compiled.insert_prefetch, *compiled.update_prefetch]  # type: ignore[attr-defined]
        if defaulted:
            names = ", ".join(column.key for column in defaulted)
            raise ValueError(f"Give the values of {names}: the driver runs no column defaults.")
        asked = {name for name, bind in compiled.binds.items() if bind.required}
        stand_ins = {name: [None] * lengths[name] if name in lengths else None for name in asked}
        # Literal parameters (an IN list of constants) are expanded into the text here.
        expanded = compiled.construct_expanded_state(stand_ins)
        assert expanded.positiontup is not None
        lists = tuple((name, tuple(expanded.parameter_expansion[name])) for name in lengths)
        given = asked | {expanded_name for _, names in lists for expanded_name in names}
        bind_processors = expanded.processors
        fixed = {
            name: bind_processors[name](value) if name in bind_processors else value
            for name, value in expanded.parameters.items()
            if name not in given
        }
        columns = _named_columns(self.statement)
        processors = [
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
        ]
        return _Compiled(
            sql=expanded.statement,
            order=tuple(expanded.positiontup),
            fixed=fixed,
            lists=lists,
            bind_processors=tuple(
                (name, process) for name, process in bind_processors.items() if name in given
            ),
            row=namedtuple("PreparedRow", [column.key for column in columns])  # type: ignore[misc]
            if columns
            else None,
            result_processors=tuple(
                (index, process) for index, process in enumerate(processors) if process
            ),
        )


def with_defaults(table: Table, values: Mapping[str, Any]) -> dict[str, Any]:
    """A value for every column of `table` a new row takes: `values`, else the column's
    default as SQLAlchemy would work it out in Python, else null. For a prepared insert,
    which runs no defaults of its own."""
    row = {}
    for column in table.columns:
        if column.key in values:
            row[column.key] = values[column.key]
        elif column.default is None:
            row[column.key] = None
        else:
            default: Any = column.default
            row[column.key] = default.arg(None) if default.is_callable else default.arg
    return row


@contextmanager
def _refusals_as_sqlalchemy(sql: str, arguments: Any) -> Iterator[None]:
    """The database's refusal of a row (a unique or foreign key violation, say) raised as
    SQLAlchemy raises it, so that repositories tell it apart the same way either way."""
    try:
        yield
    except asyncpg.IntegrityConstraintViolationError as refusal:
        raise IntegrityError(sql, arguments, refusal) from refusal


def _named_columns(statement: Executable) -> list[Any]:
    """The columns a statement's rows hold: what it selects or returns; text names none."""
    if isinstance(statement, Select):
        return list(statement.selected_columns)
    if isinstance(statement, UpdateBase):
        return list(statement.exported_columns)
    assert isinstance(statement, TextClause)
    return []


async def read_rows(
    session: AsyncSession, prepared: Prepared, parameters: Mapping[str, Any]
) -> list[Any]:
    """The rows of `prepared`, read on the connection of the session's transaction."""
    return await prepared.rows(await connection_of(session), parameters)


def _settled_driver(connection: Connection, *, in_transaction_only: bool) -> Any | None:
    """The asyncpg connection under `connection`, if a statement sent to it directly runs
    where SQLAlchemy's next one would, or reads what it would."""
    if connection.dialect.driver != "asyncpg":
        return None
    driver = driver_of(connection)
    options = connection.get_execution_options()
    if options.get("isolation_level") == "AUTOCOMMIT" or driver.is_in_transaction():
        return driver
    ahead_of_begin = not in_transaction_only and not options.get(POOLED_BY_TRANSACTION)
    return driver if ahead_of_begin else None
