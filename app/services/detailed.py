"""The detailed report: finished entries one by one, under a heading per day or per project,
each group with its subtotal. It is meant to be read (JSON or PDF), so it holds at most
`MAX_ENTRIES`; the XLSX form is the entries export, which has no such limit."""

import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from app.db.engine import Sessions
from app.errors import InvalidInput
from app.repositories.time_entries import EntryFilters
from app.services import policies
from app.services.caller import Caller
from app.services.exports import ExportScope, entry_batches
from app.services.reports import amount_cents

MAX_ENTRIES = 5000
_NO_PROJECT = "(no project)"


@dataclass(frozen=True)
class DetailedEntry:
    id: uuid.UUID
    user: str
    client: str | None
    project: str | None
    task: str | None
    description: str
    start_at: datetime
    end_at: datetime
    seconds: int
    billable: bool
    amount_cents: int | None
    tags: list[str]


@dataclass
class DetailedGroup:
    key: str | None
    label: str
    entries: list[DetailedEntry] = field(default_factory=list)
    seconds: int = 0
    billable_seconds: int = 0
    rate_seconds: int = 0
    amount_cents: int | None = None
    groups: list["DetailedGroup"] = field(default_factory=list)


@dataclass(frozen=True)
class DetailedReport:
    currency: str
    totals: DetailedGroup
    groups: list[DetailedGroup]


async def detailed_report(
    sessions: Sessions,
    caller: Caller,
    filters: EntryFilters,
    *,
    group_by: str,
    timezone: str,
    shows_amounts: bool | None = None,
) -> DetailedReport:
    """The caller's visible entries in `filters`, grouped by local `day` or `project`, in
    time order within each group. Amounts show where the caller may see rates (and, for a
    shared report, only if `shows_amounts` says so too)."""
    workspace = caller.current_workspace()
    amounts = policies.may_see_rates(caller) and shows_amounts is not False
    zone = ZoneInfo(timezone)
    scope = ExportScope(workspace, policies.entry_viewer(caller), amounts, timezone)
    groups: dict[str | None, DetailedGroup] = {}
    totals = DetailedGroup(None, "Total")
    count = 0
    finished = replace(filters, running=False, include_deleted=False)
    async for rows, tag_names in entry_batches(sessions, scope, finished, 1000):
        count += len(rows)
        if count > MAX_ENTRIES:
            raise InvalidInput(
                f"The report holds more than {MAX_ENTRIES} entries; narrow its filters or "
                "export the entries as a spreadsheet.",
                field="from",
            )
        for row in rows:
            seconds = int((row.end_at - row.start_at).total_seconds())
            rate = row.hourly_rate_cents if amounts and row.billable else None
            entry = DetailedEntry(
                id=row.id,
                user=row.full_name,
                client=row.client_name,
                project=row.project_name,
                task=row.task_name,
                description=row.description,
                start_at=row.start_at,
                end_at=row.end_at,
                seconds=seconds,
                billable=bool(row.billable),
                amount_cents=None if not amounts else amount_cents(seconds * (rate or 0)),
                tags=sorted(tag_names[uuid.UUID(tag)] for tag in row.tag_ids.split(","))
                if row.tag_ids
                else [],
            )
            key, label = _group_of(row, group_by, zone)
            group = groups.setdefault(key, DetailedGroup(key, label))
            for into in (group, totals):
                into.seconds += seconds
                into.billable_seconds += seconds if entry.billable else 0
                into.rate_seconds += seconds * (rate or 0)
            group.entries.append(entry)
    for group in [*groups.values(), totals]:
        group.amount_cents = amount_cents(group.rate_seconds) if amounts else None
    ordered = sorted(
        groups.values(),
        key=lambda group: (
            group.key is None,
            group.key if group_by == "day" else group.label.casefold(),
        ),
    )
    return DetailedReport(workspace.currency, totals, ordered)


def _group_of(row: object, group_by: str, zone: ZoneInfo) -> tuple[str | None, str]:
    if group_by == "day":
        day: date = row.start_at.astimezone(zone).date()  # type: ignore[attr-defined]
        return day.isoformat(), day.strftime("%A, %Y-%m-%d")
    project_id = row.project_id  # type: ignore[attr-defined]
    if project_id is None:
        return None, _NO_PROJECT
    name = row.project_name  # type: ignore[attr-defined]
    client = row.client_name  # type: ignore[attr-defined]
    return str(project_id), f"{name} ({client})" if client else name
