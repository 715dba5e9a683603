"""Hot reads, compiled once and handed to the driver as they are.

The reads every request makes (the caller's standing, one entry, a write's references and
closed time) are Core statements built once, with named parameters. Through SQLAlchemy each
run still costs about 200 µs of Python on top of the driver's own work: the compiled-cache
lookup, an execution context, parameter processing, a greenlet hop, then `Result` and `Row`
objects. A `PreparedRead` is compiled once per dialect instead (and once per length of each
IN list it takes, up to `MAX_LIST_VARIANT`); a run only puts its parameters in order and
gives them to asyncpg on the unit of work's connection, and the rows come back as named
tuples with SQLAlchemy's result processing (enums) applied, read by attribute like
SQLAlchemy's rows.

The driver runs a read directly only where its transaction is settled: in autocommit (work
that only reads, on PostgreSQL), or once the transaction has begun on the server. SQLAlchemy
sends BEGIN with the first statement it runs, so a statement sent around it before then would
run ahead of the transaction. Everything else, SQLite included, runs the same statement
through SQLAlchemy.
"""

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlalchemy.engine import Compiled, Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.db.connection import connection_of, driver_of

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
    row: type
    result_processors: tuple[tuple[int, Callable[[Any], Any]], ...]

    def arguments(self, parameters: Mapping[str, Any]) -> list[Any]:
        values = {**self.fixed, **parameters}
        for name, names in self.lists:
            values.update(zip(names, parameters[name], strict=True))
        for name, process in self.bind_processors:
            values[name] = process(values[name])
        return [values[name] for name in self.order]

    def rows(self, records: Sequence[Any]) -> list[Any]:
        if not self.result_processors:
            return [self.row._make(record) for record in records]
        rows = []
        for record in records:
            values = list(record)
            for index, process in self.result_processors:
                values[index] = process(values[index])
            rows.append(self.row._make(values))
        return rows


class PreparedRead:
    """A select built once at import, with named bind parameters."""

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        # Compiled on the driver's dialect at the first run, with the IN lists it takes.
        self._compiled: Compiled | None = None
        self._lists: tuple[str, ...] = ()
        # By the lengths of the IN lists a run gives, in `_lists` order.
        self._variants: dict[tuple[int, ...], _Compiled] = {}

    async def rows(self, connection: AsyncConnection, parameters: Mapping[str, Any]) -> list[Any]:
        driver = _settled_driver(connection)
        compiled = self._variant(connection.dialect, parameters) if driver is not None else None
        if compiled is None:
            return list((await connection.execute(self.statement, parameters)).all())
        records = await driver.fetch(compiled.sql, *compiled.arguments(parameters))
        return compiled.rows(records)

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
        columns = self.statement.selected_columns
        processors = (
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
        )
        return _Compiled(
            sql=expanded.statement,
            order=tuple(expanded.positiontup),
            fixed=fixed,
            lists=lists,
            bind_processors=tuple(
                (name, process) for name, process in bind_processors.items() if name in given
            ),
            row=namedtuple("PreparedRow", [column.key for column in columns]),  # type: ignore[misc]
            result_processors=tuple(
                (index, process) for index, process in enumerate(processors) if process
            ),
        )


async def read_rows(
    session: AsyncSession, prepared: PreparedRead, parameters: Mapping[str, Any]
) -> list[Any]:
    """The rows of `prepared`, read on the connection of the session's transaction."""
    return await prepared.rows(await connection_of(session), parameters)


def _settled_driver(connection: AsyncConnection) -> Any | None:
    """The asyncpg connection under `connection`, if a statement sent to it directly runs
    where SQLAlchemy's next one would."""
    if connection.dialect.driver != "asyncpg":
        return None
    driver = driver_of(connection)
    options = connection.sync_connection.get_execution_options()
    autocommit = options.get("isolation_level") == "AUTOCOMMIT"
    return driver if autocommit or driver.is_in_transaction() else None
