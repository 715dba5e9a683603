"""The weekly timesheet: people (or, for one person, projects) by local days, with totals
per line, per day and overall. It is the summary report grouped by person or project and
then by day, so it counts, filters and hides exactly as the summary does, DST included."""

import re
from dataclasses import dataclass
from datetime import date, timedelta

from app.errors import InvalidInput
from app.repositories.time_entries import EntryFilters
from app.services import policies
from app.services.reports import ReportService

MAX_DAYS = 31
_ISO_WEEK = re.compile(r"(\d{4})-W(\d{2})")


@dataclass(frozen=True)
class WeeklyLine:
    key: str | None
    label: str
    # Seconds on each day of the timesheet, in order.
    days: list[int]
    seconds: int
    amount_cents: int | None


@dataclass(frozen=True)
class WeeklyTimesheet:
    currency: str
    rows: str
    timezone: str
    days: list[date]
    lines: list[WeeklyLine]
    day_totals: list[int]
    seconds: int
    amount_cents: int | None


def week_days(week: str) -> tuple[date, date]:
    """The Monday an ISO week (`2026-W48`) starts on, and the Monday after."""
    match = _ISO_WEEK.fullmatch(week)
    if match is None:
        raise InvalidInput("Give the week as YYYY-Www, e.g. 2026-W48.", field="week")
    try:
        monday = date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError as exc:
        raise InvalidInput(f"{week} is not a week of that year.", field="week") from exc
    return monday, monday + timedelta(days=7)


async def weekly_timesheet(
    reports: ReportService,
    filters: EntryFilters,
    *,
    start: date,
    end: date,
    timezone: str,
    rows: str | None = None,
) -> WeeklyTimesheet:
    """Days from `start` to `end` (excluded) in `timezone`. Lines are people, unless
    `rows` says `project` or the sheet is about one person (one `user_id`, or a member,
    who sees only their own time)."""
    count = (end - start).days
    if not 1 <= count <= MAX_DAYS:
        raise InvalidInput(f"A timesheet covers 1 to {MAX_DAYS} days.", field="to")
    if rows is None:
        one_person = len(filters.user_id) == 1 or policies.entry_viewer(reports.caller)
        rows = "project" if one_person else "user"
    summary = await reports.summary(
        filters=filters,
        group_by=rows,
        sub_group_by="day",
        start=start,
        end=end,
        tz=timezone,
    )
    days = [start + timedelta(days=offset) for offset in range(count)]
    column = {day.isoformat(): index for index, day in enumerate(days)}
    lines = []
    day_totals = [0] * count
    for group in summary.groups:
        seconds = [0] * count
        for child in group.groups:
            seconds[column[str(child.key)]] = child.seconds
            day_totals[column[str(child.key)]] += child.seconds
        key = None if group.key is None else str(group.key)
        lines.append(WeeklyLine(key, group.label, seconds, group.seconds, group.amount_cents))
    return WeeklyTimesheet(
        currency=summary.currency,
        rows=rows,
        timezone=timezone,
        days=days,
        lines=lines,
        day_totals=day_totals,
        seconds=summary.totals.seconds,
        amount_cents=summary.totals.amount_cents,
    )
