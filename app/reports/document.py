"""What every rendering of a report shares: its heading, the shape of its groups, and how
hours and money are written."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol


class Totalled(Protocol):
    label: str
    seconds: int
    billable_seconds: int
    amount_cents: int | None
    groups: Any


@dataclass(frozen=True)
class Heading:
    """What a report is about: printed above it, and named in spreadsheets too."""

    title: str
    workspace: str
    currency: str
    period: str
    timezone: str
    filters: Sequence[str] = ()


@dataclass(frozen=True)
class EntryLine:
    start: str
    user: str
    project: str
    description: str
    seconds: int
    amount_cents: int | None


@dataclass(frozen=True)
class EntryGroup:
    label: str
    entries: Sequence[EntryLine]
    seconds: int
    amount_cents: int | None


def hours(seconds: int) -> str:
    """Seconds as H:MM, the way timesheets read."""
    minutes = (seconds + 30) // 60
    return f"{minutes // 60}:{minutes % 60:02d}"


def money(cents: int | None, currency: str) -> str:
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    units, rest = divmod(abs(cents), 100)
    return f"{sign}{units:,}.{rest:02d} {currency}"


def describe_filters(filters: Any) -> list[str]:
    """The entry filters of a report (an `EntryFilters`), in words for its heading."""
    described = []
    for name, one, many in (
        ("user_id", "person", "people"),
        ("project_id", "project", "projects"),
        ("client_id", "client", "clients"),
        ("task_id", "task", "tasks"),
        ("tag_id", "tag", "tags"),
    ):
        chosen = getattr(filters, name)
        if chosen:
            described.append(f"{len(chosen)} {one if len(chosen) == 1 else many}")
    if filters.billable is not None:
        described.append("billable only" if filters.billable else "non-billable only")
    if filters.q:
        described.append(f'description contains "{filters.q}"')
    return described


def period(start: date | None, end: date | None) -> str:
    """A report's days, `end` excluded, as its heading says them."""
    if start is None and end is None:
        return "all time"
    if end is None:
        return f"from {start.isoformat()}"
    last = end - timedelta(days=1)
    if start is None:
        return f"until {last.isoformat()}"
    return f"{start.isoformat()} to {last.isoformat()}"
