"""What a row of each export means: who, on what, when, for how long, billable or not.

Dates come as ISO (2024-04-22), US (04/22/2024) or with two-digit years (04/22/24); times
with 24-hour or 12-hour clocks, seconds or not; durations as HH:MM:SS, H:MM or decimal
hours with a point or a comma. A start and an end win over a duration; an end earlier in
the day than the start, with no end date, is on the next day. Naive times are read in the
run's timezone; the native format's instants carry their offset.
"""

import hashlib
import json
import re
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

from app.db.types import INT32_MAX
from app.enums import ImportFormat
from app.instants import supported_utc
from app.loader.reading import RawRow
from app.reports.cells import unescape_formula


class DateOrder(StrEnum):
    """How to read a date written with slashes: month first (US) or day first."""

    MONTH_FIRST = "mdy"
    DAY_FIRST = "dmy"


class RowError(ValueError):
    """A row that cannot be imported, and why, in words for the person importing."""


@dataclass(frozen=True)
class ParsedEntry:
    line: int
    external_id: str
    email: str
    user_name: str
    client: str
    project: str
    task: str
    description: str
    start_at: datetime
    end_at: datetime
    billable: bool
    tags: tuple[str, ...]
    # The rate the file states, when it states one; else the workspace's rules decide.
    rate_cents: int | None


_TRUE = {"yes", "true", "1", "y", "billable"}
_FALSE = {"no", "false", "0", "n", "", "non-billable", "not billable"}
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([ap]\.?m\.?)?$", re.IGNORECASE)


def parse_row(
    row: RawRow, source: ImportFormat, zone: ZoneInfo, date_order: DateOrder
) -> ParsedEntry:
    if row.problem is not None:
        raise RowError(row.problem)
    values = row.values
    if source is ImportFormat.NATIVE_CSV:
        # Every text the exporter kept from reading as a formula, back as it was.
        values = {name: unescape_formula(value) for name, value in values.items()}
    email = values.get("email", "").lower()
    if not email:
        raise RowError("no email: the user cannot be matched")
    if source is ImportFormat.NATIVE_CSV:
        start_at, end_at = _instant(values, "start_at"), _instant(values, "end_at")
        tags = _json_tags(values.get("tags", ""))
        rate = _whole(values.get("rate", ""), "hourly_rate_cents")
    else:
        start_at, end_at = _span(values, zone, date_order)
        tags = tuple(tag.strip() for tag in values.get("tags", "").split(",") if tag.strip())
        rate = _cents(values.get("rate", ""))
    if end_at <= start_at:
        raise RowError("the entry ends before it starts")
    description = values.get("description", "")
    entry = {
        "email": email,
        "user_name": values.get("user", "") or email,
        "client": values.get("client", ""),
        "project": values.get("project", ""),
        "task": values.get("task", ""),
        "description": description,
    }
    if entry["task"] and not entry["project"]:
        raise RowError("a task needs a project")
    billable = _flag(values.get("billable", ""))
    return ParsedEntry(
        line=row.line,
        external_id=values.get("id") or _fingerprint(source, entry, start_at, end_at),
        start_at=start_at,
        end_at=end_at,
        billable=billable,
        tags=tags,
        rate_cents=rate if billable else None,
        **entry,
    )


def _fingerprint(
    source: ImportFormat, entry: dict[str, str], start_at: datetime, end_at: datetime
) -> str:
    """A stable id for a row of a format that has none, so that a second import of the
    same file finds what the first one wrote."""
    parts = [source.value, start_at.isoformat(), end_at.isoformat(), *entry.values()]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


def _span(values: dict[str, str], zone: ZoneInfo, order: DateOrder) -> tuple[datetime, datetime]:
    start_day = _date(values.get("start_date", ""), order, "start date")
    start = _local(start_day, _time(values.get("start_time", ""), "start time"), zone)
    if values.get("end_time"):
        end_day_text = values.get("end_date", "")
        end_day = _date(end_day_text, order, "end date") if end_day_text else start_day
        end = _local(end_day, _time(values["end_time"], "end time"), zone)
        if not end_day_text and end <= start:
            end = _local(end_day + timedelta(days=1), _time(values["end_time"], "end time"), zone)
        return start, end
    duration = _duration(values)
    if duration is None:
        raise RowError("no end time and no duration")
    try:
        return start, _supported(start + duration)
    except OverflowError as exc:
        raise RowError("the duration ends past year 9999") from exc


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    return _supported(datetime.combine(day, at, tzinfo=zone))


def _supported(value: datetime) -> datetime:
    """`value` in UTC, if within the instants the application takes."""
    try:
        return supported_utc(value)
    except ValueError as exc:
        raise RowError(f"{value.isoformat()} {exc}") from exc


# A file's rows share their days: each text is parsed once (a few microseconds a value, a
# good part of reading a row). Clock times, to the second, seldom repeat.
@lru_cache(maxsize=4096)
def _date(text: str, order: DateOrder, what: str) -> date:
    text = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", text):
            year, month, day = (int(part) for part in text.split("-"))
            return date(year, month, day)
        parts = re.split(r"[/.]", text)
        if len(parts) == 3 and all(part.isdecimal() for part in parts):
            first, second, year = (int(part) for part in parts)
            if len(parts[2]) == 2:
                year += 2000
            month, day = (first, second) if order is DateOrder.MONTH_FIRST else (second, first)
            return date(year, month, day)
    except ValueError as exc:
        raise RowError(f"{what} {text!r} is not a date") from exc
    raise RowError(f"{what} {text!r} is not a date")


def _time(text: str, what: str) -> time:
    # Most exports write 24-hour HH:MM:SS: read in one C call (a bad one of that shape, say
    # 25:00:00, goes on to the pattern and fails there).
    if len(text) == 8 and text[2] == text[5] == ":" and text.isascii():
        with suppress(ValueError):
            return time.fromisoformat(text)
    match = _TIME.match(text.strip())
    if not match:
        raise RowError(f"{what} {text!r} is not a time")
    hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    meridiem = (match[4] or "").lower().replace(".", "")
    if meridiem:
        if not 1 <= hour <= 12:
            raise RowError(f"{what} {text!r} is not a time")
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    try:
        return time(hour, minute, second)
    except ValueError as exc:
        raise RowError(f"{what} {text!r} is not a time") from exc


def _duration(values: dict[str, str]) -> timedelta | None:
    text = values.get("duration", "") or values.get("duration_decimal", "")
    text = text.strip()
    if not text:
        return None
    if ":" in text:
        parts = text.split(":")
        if len(parts) not in (2, 3) or not all(part.isdecimal() for part in parts):
            raise RowError(f"duration {text!r} is not H:MM or HH:MM:SS")
        hours, minutes, seconds = (int(part) for part in [*parts, "0"][:3])
    else:
        try:
            hours, minutes, seconds = Decimal(text.replace(",", ".")), 0, 0
        except InvalidOperation as exc:
            raise RowError(f"duration {text!r} is not a number of hours") from exc
    try:
        return timedelta(seconds=int(hours * 3600 + minutes * 60 + seconds))
    except (OverflowError, ValueError) as exc:  # past what a timedelta holds, or infinite
        raise RowError(f"duration {text!r} is too long") from exc


def _flag(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise RowError(f"billable {text!r} is neither yes nor no")


def amount_cents(value: object, what: str) -> int | None:
    """An amount in currency units (`95`, `95.5`, `"1,234.50"`, `"95,50"`) as whole cents."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise RowError(f"{what} {value!r} is not an amount")
    text = str(value).strip()
    if "," in text and "." in text:
        text = text.replace(",", "")  # thousands separators: 1,234.50
    try:
        amount = Decimal(text.replace(",", "."))
    except InvalidOperation as exc:
        raise RowError(f"{what} {value!r} is not an amount") from exc
    if not amount.is_finite() or amount < 0:
        raise RowError(f"{what} {value!r} is not an amount")
    return int((amount * 100).to_integral_value())


def _cents(text: str) -> int | None:
    """A rate written in currency units (`100.00`, `100,00`, `1,234.50`) as whole cents."""
    cents = amount_cents(text.strip(), "rate")
    if cents is not None and cents > INT32_MAX:
        raise RowError(f"rate {text!r} is over {INT32_MAX / 100:,.2f}")
    return cents


def _whole(text: str, what: str) -> int | None:
    # `isdecimal`, not `isdigit`: `int` reads the decimal digits of every script but no
    # superscript (`²`), which `isdigit` lets through.
    text = text.strip()
    if not text:
        return None
    if not text.isdecimal():
        raise RowError(f"{what} {text!r} is not a whole number")
    if int(text) > INT32_MAX:
        raise RowError(f"{what} {text!r} is over {INT32_MAX}")
    return int(text)


def _instant(values: dict[str, str], key: str) -> datetime:
    text = values.get(key, "")
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise RowError(f"{key} {text!r} is not an ISO 8601 date and time") from exc
    if value.tzinfo is None:
        raise RowError(f"{key} {text!r} has no offset")
    return _supported(value)


def _json_tags(text: str) -> tuple[str, ...]:
    if not text:
        return ()
    try:
        tags = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RowError("tags are not a JSON list") from exc
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise RowError("tags are not a JSON list of names")
    return tuple(tag.strip() for tag in tags if tag.strip())
