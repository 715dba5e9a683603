"""Summary reports: time totalled by up to two groupings, in the caller's timezone.

An entry belongs to the day, week or month its start falls in, read in the report's
timezone. SQLite knows no timezones, so the buckets' boundaries are computed here (local
midnights, converted to UTC) and the database only sums per boundary range: one approach,
right on both databases and across daylight-saving changes.
"""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.types import utcnow
from app.enums import WeekStart
from app.errors import InvalidInput
from app.repositories.reports import DIMENSIONS, Dimension, Measure, ReportRepository
from app.repositories.reports import bucket_dimension as bucket_by
from app.repositories.time_entries import EntryFilters, TimeEntryRepository
from app.services import policies
from app.services.caller import Caller

TIME_BUCKETS = ("day", "week", "month")
# More buckets than this make a report nobody reads and a statement nobody should run.
MAX_BUCKETS = 1000
_NONE_LABELS = {
    "project": "(no project)",
    "client": "(no client)",
    "task": "(no task)",
    "tag": "(no tag)",
    "user": "(unknown user)",
}

# The approval groups, in the order a report lists them.
_APPROVAL_LABELS = {"approved": "Approved", "submitted": "Submitted", "open": "Open"}


@dataclass
class Group:
    key: str | bool | None
    label: str
    seconds: int
    billable_seconds: int
    amount_cents: int | None
    groups: list["Group"] = field(default_factory=list)


@dataclass(frozen=True)
class Summary:
    currency: str
    totals: Group
    groups: list[Group]


def bucket_starts(
    kind: str, first: datetime, last: datetime, tz: ZoneInfo, week_start: WeekStart
) -> list[date]:
    """The local first days of the buckets from the one holding `first` to the one
    holding `last`, in order."""
    day, last_day = first.astimezone(tz).date(), last.astimezone(tz).date()
    if kind == "week":
        first_weekday = 0 if week_start is WeekStart.MONDAY else 6
        day -= timedelta(days=(day.weekday() - first_weekday) % 7)
    elif kind == "month":
        day = day.replace(day=1)
    starts = []
    while day <= last_day:
        starts.append(day)
        day = next_bucket(kind, day)
    return starts


def next_bucket(kind: str, start: date) -> date:
    """The first day of the bucket after the one starting on `start`."""
    if kind == "day":
        return start + timedelta(days=1)
    if kind == "week":
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """When `day` begins in `tz`, as a UTC instant."""
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)


def amount_cents(rate_seconds: int) -> int:
    """Cents from the sum of seconds times cents per hour, rounded half up."""
    return (int(rate_seconds) + 1800) // 3600


class ReportService:
    def __init__(self, session: AsyncSession, caller: Caller) -> None:
        self.caller = caller
        self.workspace = caller.current_workspace()
        entries = TimeEntryRepository(
            session, self.workspace.id, viewer_id=policies.entry_viewer(caller)
        )
        self.reports = ReportRepository(entries)

    async def summary(
        self,
        *,
        filters: EntryFilters,
        group_by: str,
        sub_group_by: str | None = None,
        start: date | datetime | None = None,
        end: date | datetime | None = None,
        tz: str | None = None,
        week_start: WeekStart | None = None,
        rounding: str | None = None,
        rounding_minutes: int | None = None,
        include_running: bool = False,
    ) -> Summary:
        """Members report on their own time; amounts show only to who may see rates."""
        zone = ZoneInfo(tz or self.caller.user.timezone)
        filters = replace(
            filters, from_=_instant(start, zone), to=_instant(end, zone), include_deleted=False
        )
        measure = Measure(
            now=utcnow() if include_running else None,
            rounding=rounding,
            step_seconds=rounding_minutes * 60 if rounding_minutes else None,
        )
        kinds = [group_by, *([sub_group_by] if sub_group_by else [])]
        buckets = await self._buckets(
            kinds, filters, measure, zone, week_start or self.caller.user.week_start
        )
        dimensions = {
            kind: buckets[kind][1] if kind in buckets else DIMENSIONS[kind] for kind in kinds
        }
        shows_amounts = policies.may_see_rates(self.caller)

        def group(kind: str | None, key: Any, label: Any, sums: Sequence[int]) -> Group:
            shown_key, shown_label = (
                _present(kind, key, label, buckets) if kind else (None, "Total")
            )
            return Group(
                key=shown_key,
                label=shown_label,
                seconds=int(sums[0]),
                billable_seconds=int(sums[1]),
                amount_cents=amount_cents(sums[2]) if shows_amounts else None,
            )

        [total_row] = await self.reports.summarize(filters, measure, [])
        totals = group(None, None, None, total_row)
        if any(kind in buckets and not buckets[kind][0] for kind in kinds):
            return Summary(self.workspace.currency, totals, [])  # nothing in range
        top = [
            group(group_by, row[0], row[1], row[2:])
            for row in await self.reports.summarize(filters, measure, [dimensions[group_by]])
        ]
        if sub_group_by:
            children: dict[Any, list[Group]] = defaultdict(list)
            pairs = await self.reports.summarize(
                filters, measure, [dimensions[group_by], dimensions[sub_group_by]]
            )
            for row in pairs:
                parent_key = _present(group_by, row[0], row[1], buckets)[0]
                children[parent_key].append(group(sub_group_by, row[2], row[3], row[4:]))
            for parent in top:
                parent.groups = _sorted(sub_group_by, children[parent.key])
        return Summary(self.workspace.currency, totals, _sorted(group_by, top))

    async def _buckets(
        self,
        kinds: Sequence[str],
        filters: EntryFilters,
        measure: Measure,
        zone: ZoneInfo,
        week_start: WeekStart,
    ) -> dict[str, tuple[list[date], Dimension]]:
        """For each time grouping asked for, its buckets' first days and the dimension
        that sorts entries into them."""
        wanted = [kind for kind in kinds if kind in TIME_BUCKETS]
        if not wanted:
            return {}
        first, last = filters.from_, filters.to
        if first is None or last is None:
            found_first, found_last = await self.reports.start_range(filters, measure)
            first = first or found_first
            last = (last - timedelta(microseconds=1)) if last else found_last
        else:
            last -= timedelta(microseconds=1)
        buckets = {}
        for kind in wanted:
            starts = (
                []
                if first is None or last is None
                else bucket_starts(kind, first, last, zone, week_start)
            )
            if len(starts) > MAX_BUCKETS:
                raise InvalidInput(
                    f"The range holds {len(starts)} {kind}s; report on a shorter range or by "
                    f"a longer bucket (at most {MAX_BUCKETS}).",
                    field="group_by",
                )
            ends = [local_midnight(next_bucket(kind, day), zone) for day in starts]
            buckets[kind] = (starts, bucket_by(ends))
        return buckets


def _instant(value: date | datetime | None, zone: ZoneInfo) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return local_midnight(value, zone)


def _present(
    kind: str, key: Any, label: Any, buckets: dict[str, tuple[list[date], Dimension]]
) -> tuple[str | bool | None, str]:
    """A group's key and label as the report shows them."""
    if kind in buckets:
        day = buckets[kind][0][int(key)]
        shown = day.strftime("%Y-%m") if kind == "month" else day.isoformat()
        return shown, shown
    if kind == "billable":
        billable = bool(key)
        return billable, "Billable" if billable else "Non-billable"
    if kind == "description":
        return key, key or "(no description)"
    if kind == "approval":
        return key, _APPROVAL_LABELS[key]
    if key is None:
        return None, _NONE_LABELS[kind]
    return str(uuid.UUID(str(key))), label or _NONE_LABELS[kind]


def _sorted(kind: str, groups: list[Group]) -> list[Group]:
    """Time buckets in time order; other groups by label, the "none" group last."""
    if kind in TIME_BUCKETS:
        return sorted(groups, key=lambda group: str(group.key))
    if kind == "billable":
        return sorted(groups, key=lambda group: not group.key)
    if kind == "approval":
        return sorted(groups, key=lambda group: list(_APPROVAL_LABELS).index(str(group.key)))
    return sorted(groups, key=lambda group: (group.key is None, group.label.casefold()))
