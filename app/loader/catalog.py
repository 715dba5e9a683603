"""What a catalog export says about clients, projects, tasks, tags and people, read from
any tracker's files into one shape. A field left None is one the file does not state: the
import leaves it as it is on a row that exists, and takes the default on a new one."""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from app.loader.formats import RowError


@dataclass(frozen=True)
class Where:
    """Where a record comes from: a CSV's line, or a JSON file's record number (from 1)."""

    line: int
    file: str | None = None


@dataclass(frozen=True)
class ClientRecord:
    where: Where
    name: str
    archived: bool | None = None


@dataclass(frozen=True)
class ProjectRecord:
    where: Where
    name: str
    client: str = ""
    color: str | None = None
    is_billable: bool | None = None
    hourly_rate_cents: int | None = None
    estimate_seconds: int | None = None
    budget_cents: int | None = None
    private: bool | None = None
    archived: bool | None = None


@dataclass(frozen=True)
class TaskRecord:
    where: Where
    project: str
    name: str
    estimate_seconds: int | None = None
    done: bool | None = None


@dataclass(frozen=True)
class TagRecord:
    where: Where
    name: str


@dataclass(frozen=True)
class MemberRecord:
    where: Where
    email: str
    full_name: str
    hourly_rate_cents: int | None = None


@dataclass(frozen=True)
class ProjectMemberRecord:
    where: Where
    project: str
    email: str
    hourly_rate_cents: int | None = None


CatalogRecord = (
    ClientRecord | ProjectRecord | TaskRecord | TagRecord | MemberRecord | ProjectMemberRecord
)


@dataclass(frozen=True)
class BadRecord:
    """A record that cannot be read, and why."""

    where: Where
    reason: str


def hours_seconds(value: object, what: str) -> int | None:
    """A number of hours (`12`, `7.5`, `"7,5"`) as whole seconds; None if empty or zero."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise RowError(f"{what} {value!r} is not a number of hours")
    try:
        hours = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation as exc:
        raise RowError(f"{what} {value!r} is not a number of hours") from exc
    if not hours.is_finite() or hours < 0:
        raise RowError(f"{what} {value!r} is not a number of hours")
    return int((hours * 3600).to_integral_value()) or None


def yes_no(text: str, what: str) -> bool | None:
    """Yes/No, true/false, 1/0; None if empty."""
    lowered = text.strip().lower()
    if not lowered:
        return None
    if lowered in {"yes", "true", "1", "y", "active"}:
        return True
    if lowered in {"no", "false", "0", "n", "archived", "inactive"}:
        return False
    raise RowError(f"{what} {text!r} is neither yes nor no")
