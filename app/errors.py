"""Domain errors: what went wrong, in the product's terms, never in HTTP's or the database's.

Services and repositories raise them; each entry point renders them its own way: the API as
problem+json (`app/api/problems.py`), the CLI and the importer as messages. An error may
name the input field it is about, as a path (`("tag_ids", 2)`), never as a request location.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

FieldPath = tuple[str | int, ...]


@dataclass(frozen=True)
class FieldProblem:
    """One field of the input and what is wrong with it."""

    field: FieldPath
    message: str
    kind: str = "value_error"


class DomainError(Exception):
    default_detail = "The request cannot be completed."
    # A kind of error clients must tell apart from others of its status names its own
    # problem type (`urn:timesheet:problem:<problem_type>`); the rest share their status's.
    problem_type: ClassVar[str | None] = None

    def __init__(
        self,
        detail: str | None = None,
        *,
        field: str | FieldPath | None = None,
        problems: Sequence[FieldProblem] = (),
        kind: str = "value_error",
    ) -> None:
        self.detail = detail or self.default_detail
        super().__init__(self.detail)
        if field is not None and not problems:
            path = (field,) if isinstance(field, str) else field
            problems = [FieldProblem(path, self.detail, kind)]
        self.problems = list(problems)


class NotAuthenticated(DomainError):
    default_detail = "Not authenticated."


class Forbidden(DomainError):
    """The caller is known but may not do this."""

    default_detail = "Your role in this workspace does not allow this."


class NotFound(DomainError):
    """Nothing by that id, or nothing the caller may see: the two are never told apart."""

    default_detail = "Not found."


class Conflict(DomainError):
    """The request is valid but collides with the current state (a running timer, an overlap,
    an archived project)."""

    default_detail = "This conflicts with the current state."


class Duplicate(Conflict):
    """A unique rule refused the write."""

    default_detail = "This conflicts with an existing record."


class PeriodLocked(Conflict):
    """The change would touch closed time: before the workspace's `locked_before`, or in a
    submitted or approved period. The detail names the period."""

    default_detail = "This time is closed."
    problem_type = "period-locked"


class InvalidInput(DomainError):
    """The input breaks a rule; `problems` say which fields."""

    default_detail = "The input is not valid."


class ReferenceMissing(InvalidInput):
    """The input names something that does not exist here."""

    default_detail = "A referenced resource does not exist here."


class InvalidCursor(InvalidInput):
    default_detail = "The cursor is not valid for this list."


class TooLarge(DomainError):
    """The input is bigger than this server takes."""

    default_detail = "The input is too large."


class StaleVersion(DomainError):
    """The row changed since the caller read it."""

    default_detail = "The resource has changed since it was read."


class TooManyAttempts(DomainError):
    default_detail = "Too many attempts; try again later."

    def __init__(self, detail: str | None = None, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = max(1, retry_after)


class Unavailable(DomainError):
    default_detail = "A service this depends on cannot be reached."
    # Seconds a client should wait before asking again.
    retry_after = 5
