"""Turn the databases' integrity errors into one portable description."""

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.exc import DBAPIError, IntegrityError


class Violation(StrEnum):
    UNIQUE = "unique"
    FOREIGN_KEY = "foreign_key"
    CHECK = "check"
    NOT_NULL = "not_null"
    OTHER = "other"


_PG_CODES = {
    "23505": Violation.UNIQUE,
    "23503": Violation.FOREIGN_KEY,
    "23514": Violation.CHECK,
    "23502": Violation.NOT_NULL,
}
_SQLITE_PREFIXES = {
    "UNIQUE constraint failed": Violation.UNIQUE,
    "FOREIGN KEY constraint failed": Violation.FOREIGN_KEY,
    "CHECK constraint failed": Violation.CHECK,
    "NOT NULL constraint failed": Violation.NOT_NULL,
}


@dataclass(frozen=True)
class IntegrityProblem:
    violation: Violation
    # PostgreSQL names the constraint; SQLite names the columns or the check.
    subject: str


def sqlstate_of(exc: DBAPIError) -> str | None:
    """PostgreSQL's SQLSTATE of a driver error; None on SQLite."""
    orig = exc.orig
    return getattr(orig, "sqlstate", None) or getattr(
        getattr(orig, "__cause__", None), "sqlstate", None
    )


def describe(exc: IntegrityError) -> IntegrityProblem:
    orig = exc.orig
    cause = getattr(orig, "__cause__", None)
    sqlstate = sqlstate_of(exc)
    if sqlstate:
        constraint = (
            getattr(orig, "constraint_name", None) or getattr(cause, "constraint_name", None) or ""
        )
        return IntegrityProblem(_PG_CODES.get(sqlstate, Violation.OTHER), constraint)
    message = str(orig)
    for prefix, violation in _SQLITE_PREFIXES.items():
        if message.startswith(prefix):
            return IntegrityProblem(violation, message.removeprefix(prefix).strip(": "))
    return IntegrityProblem(Violation.OTHER, message)
