"""Hot reads, compiled once and handed to the driver as they are.

The reads every request makes (the caller's standing, one entry) are Core statements built
once, with named parameters. Through SQLAlchemy each run still costs about 200 µs of Python
on top of the driver's own work: the compiled-cache lookup, an execution context, parameter
processing, a greenlet hop, then `Result` and `Row` objects. A `PreparedRead` is compiled once
per dialect instead; a run only puts its parameters in order and gives them to asyncpg on the
unit of work's connection, and the rows come back as named tuples with SQLAlchemy's result
processing (enums) applied, read by attribute like SQLAlchemy's rows.

Only work that reads alone goes to the driver directly: on PostgreSQL it runs in autocommit,
so there is no transaction that SQLAlchemy would still have to begin (it issues BEGIN with its
first statement, which a statement sent around it would run ahead of). Work that writes, and
SQLite, run the same statement through SQLAlchemy.
"""

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # The statement's parameter names in the driver's positional order, with the values of
    # those the statement fixes itself (literals), already processed for the driver.
    order: tuple[str, ...]
    fixed: Mapping[str, Any]
    # Those of the parameters each run gives that the driver takes in another form.
    bind_processors: tuple[tuple[str, Callable[[Any], Any]], ...]
    row: type
    result_processors: tuple[tuple[int, Callable[[Any], Any]], ...]

    def arguments(self, parameters: Mapping[str, Any]) -> list[Any]:
        values = {**self.fixed, **parameters}
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
    """A select built once at import, with named bind parameters and no expanding ones (an
    IN list would change the statement's text with its length)."""

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self._compiled: _Compiled | None = None

    async def rows(self, connection: AsyncConnection, parameters: Mapping[str, Any]) -> list[Any]:
        sync = connection.sync_connection
        if sync.dialect.driver != "asyncpg" or (
            sync.get_execution_options().get("isolation_level") != "AUTOCOMMIT"
        ):
            return list((await connection.execute(self.statement, parameters)).all())
        compiled = self._compiled or self._compile(sync.dialect)
        driver = sync.connection.driver_connection
        assert driver is not None
        records = await driver.fetch(compiled.sql, *compiled.arguments(parameters))
        return compiled.rows(records)

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect)
        asked = {name for name, bind in compiled.binds.items() if bind.required}
        if any(compiled.binds[name].expanding for name in asked):
            raise ValueError("A prepared read takes no expanding parameters.")
        # Literal parameters (an IN list of constants) are expanded into the text here.
        expanded = compiled.construct_expanded_state(dict.fromkeys(asked))
        assert expanded.positiontup is not None
        columns = self.statement.selected_columns
        processors = (
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
        )
        bind_processors = expanded.processors
        fixed = {
            name: bind_processors[name](value) if name in bind_processors else value
            for name, value in expanded.parameters.items()
            if name not in asked
        }
        self._compiled = _Compiled(
            sql=expanded.statement,
            order=tuple(expanded.positiontup),
            fixed=fixed,
            bind_processors=tuple(
                (name, process) for name, process in bind_processors.items() if name in asked
            ),
            row=namedtuple("PreparedRow", [column.key for column in columns]),  # type: ignore[misc]
            result_processors=tuple(
                (index, process) for index, process in enumerate(processors) if process
            ),
        )
        return self._compiled
