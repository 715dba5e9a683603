"""SQL expressions that each database spells its own way."""

from typing import Any

from sqlalchemy import BigInteger
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class elapsed_seconds(FunctionElement[int]):
    """Whole seconds from the first datetime argument to the second, truncated like
    `timedelta.total_seconds()` cut to an int."""

    type = BigInteger()
    inherit_cache = True


@compiles(elapsed_seconds, "postgresql")
def _elapsed_on_postgresql(element: elapsed_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST(TRUNC(EXTRACT(EPOCH FROM ({end} - {start}))) AS BIGINT)"


@compiles(elapsed_seconds, "sqlite")
def _elapsed_on_sqlite(element: elapsed_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    # julianday() is a float of days: count milliseconds, rounded, then cut to seconds.
    return f"(CAST(ROUND((julianday({end}) - julianday({start})) * 86400000) AS INTEGER) / 1000)"
