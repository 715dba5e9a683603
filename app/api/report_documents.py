"""The detailed report and the weekly timesheet, and each report as a shared link shows it."""

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.deps import WorkspaceCaller, service, workspace_router
from app.api.problems import responses
from app.api.report_files import (
    CSV_MEDIA_TYPE,
    attachment,
    file_content,
    heading,
    local_day,
    summary_file,
    summary_heading,
    weekly_file,
    without_amounts,
)
from app.api.reports import summary_report
from app.db.engine import Sessions
from app.reports import pdf, xlsx
from app.reports.document import EntryGroup, EntryLine
from app.repositories.time_entries import EntryFilters
from app.schemas.report_documents import (
    DetailedEntryRead,
    DetailedFormat,
    DetailedGroupRead,
    DetailedQuery,
    DetailedReportRead,
    ReportKind,
    WeeklyFormat,
    WeeklyLineRead,
    WeeklyQuery,
    WeeklyReport,
)
from app.schemas.reports import SummaryQuery, Totals
from app.schemas.time_entries import EntryCriteria
from app.services import policies
from app.services.caller import Caller
from app.services.detailed import DetailedGroup, detailed_report
from app.services.exports import ExportFormat, ExportScope, export_entries, export_filename
from app.services.reports import ReportService, local_midnight
from app.services.weekly import week_days, weekly_timesheet

router = workspace_router("reports", tag="reports")
Reports = Annotated[ReportService, Depends(service(ReportService))]


def _filters(query: DetailedQuery | WeeklyQuery, zone: ZoneInfo) -> EntryFilters:
    criteria = query.model_dump(include=set(EntryCriteria.model_fields))
    start, end = query.from_, query.to
    return EntryFilters(
        **criteria,
        from_=local_midnight(start, zone) if start and not isinstance(start, datetime) else start,
        to=local_midnight(end, zone) if end and not isinstance(end, datetime) else end,
    )


def _totals(group: DetailedGroup) -> dict[str, Any]:
    return {
        "seconds": group.seconds,
        "billable_seconds": group.billable_seconds,
        "amount_cents": group.amount_cents,
    }


async def detailed_document(
    sessions: Sessions,
    caller: Caller,
    query: DetailedQuery,
    format: DetailedFormat,
    *,
    show_amounts: bool | None = None,
) -> Any:
    """The detailed report for `caller` (amounts hidden when `show_amounts` is False)."""
    zone_name = query.tz or caller.user.timezone
    zone = ZoneInfo(zone_name)
    filters = _filters(query, zone)
    if format is DetailedFormat.XLSX:
        scope = ExportScope(
            caller.current_workspace(),
            viewer_id=policies.entry_viewer(caller),
            shows_rates=policies.may_see_rates(caller) and show_amounts is not False,
            timezone=zone_name,
        )
        finished = replace(filters, running=False)
        chunks = export_entries(sessions, scope, finished, ExportFormat.XLSX)
        filename = export_filename(caller.current_workspace(), ExportFormat.XLSX)
        return StreamingResponse(
            chunks,
            media_type=xlsx.MEDIA_TYPE,
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    report = await detailed_report(
        sessions,
        caller,
        filters,
        group_by=query.group_by,
        timezone=zone_name,
        shows_amounts=show_amounts,
    )
    if format is DetailedFormat.JSON:
        return DetailedReportRead(
            currency=report.currency,
            totals=Totals(**_totals(report.totals)),
            groups=[
                DetailedGroupRead(
                    key=group.key,
                    label=group.label,
                    entries=[DetailedEntryRead(**vars(entry)) for entry in group.entries],
                    **_totals(group),
                )
                for group in report.groups
            ],
        )
    groups = [
        EntryGroup(
            label=group.label,
            seconds=group.seconds,
            amount_cents=group.amount_cents,
            entries=[
                EntryLine(
                    start=entry.start_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                    user=entry.user,
                    project=entry.project or "",
                    description=entry.description,
                    seconds=entry.seconds,
                    amount_cents=entry.amount_cents,
                )
                for entry in group.entries
            ],
        )
        for group in report.groups
    ]
    title = heading(
        "Detailed report",
        caller,
        filters,
        start=local_day(query.from_, zone),
        end=local_day(query.to, zone),
        timezone=zone_name,
    )
    content = await asyncio.to_thread(pdf.detailed_pdf, title, groups, report.totals)
    return attachment(content, pdf.MEDIA_TYPE, "detailed", "pdf")


async def weekly_document(
    reports: ReportService,
    query: WeeklyQuery,
    format: WeeklyFormat,
    *,
    show_amounts: bool | None = None,
) -> Any:
    """The weekly timesheet for the report service's caller."""
    caller = reports.caller
    zone_name = query.tz or caller.user.timezone
    zone = ZoneInfo(zone_name)
    if query.week is not None:
        start, end = week_days(query.week)
    elif query.from_ is not None and query.to is not None:
        start, end = query.from_, query.to
    else:
        today = datetime.now(zone).date()
        start = today - timedelta(days=today.weekday())
        end = start + timedelta(days=7)
    criteria = query.model_dump(include=set(EntryCriteria.model_fields))
    filters = EntryFilters(**criteria)
    sheet = await weekly_timesheet(
        reports, filters, start=start, end=end, timezone=zone_name, rows=query.rows
    )
    report = WeeklyReport(
        currency=sheet.currency,
        rows=sheet.rows,
        timezone=sheet.timezone,
        days=sheet.days,
        lines=[WeeklyLineRead(**vars(line)) for line in sheet.lines],
        day_totals=sheet.day_totals,
        seconds=sheet.seconds,
        amount_cents=sheet.amount_cents,
    )
    if show_amounts is False:
        report = without_amounts(report)
    if format is WeeklyFormat.JSON:
        return report
    title = heading("Weekly timesheet", caller, filters, start=start, end=end, timezone=zone_name)
    return await weekly_file(report, format, title)


@router.get(
    "/detailed",
    summary="Detailed report",
    description=(
        "The finished entries the filters select, one by one, under a heading per local day "
        "(`group_by=day`) or per project, each with its subtotal. Members see their own "
        "entries, and amounts only where the workspace shows them rates. `format=pdf` prints "
        "it; `format=xlsx` is the entries export as a spreadsheet. JSON and PDF hold at most "
        "5,000 entries (422 beyond: narrow the filters or use `xlsx`)."
    ),
    response_model=DetailedReportRead,
    responses={
        **file_content("application/json", xlsx.MEDIA_TYPE, pdf.MEDIA_TYPE),
        **responses(422),
    },
)
async def detailed(
    request: Request,
    caller: WorkspaceCaller,
    query: Annotated[DetailedQuery, Query()],
    format: Annotated[DetailedFormat, Query(description="JSON or a file.")] = DetailedFormat.JSON,
) -> Any:
    # Read on sessions of its own, like the export: a spreadsheet streams after the
    # request's unit of work has ended.
    return await detailed_document(request.app.state.sessions, caller, query, format)


@router.get(
    "/weekly",
    summary="Weekly timesheet",
    description=(
        "People by days (or projects by days, for one person), with totals per line, per day "
        "and overall, for the ISO `week` (Monday to Sunday) or the days from `from` to `to` "
        "(up to 31), read in `tz` across daylight-saving changes. Filters and visibility "
        "are the summary report's. `format=csv`, `xlsx` or `pdf` answers it as a file."
    ),
    response_model=WeeklyReport,
    responses={
        **file_content("application/json", CSV_MEDIA_TYPE, xlsx.MEDIA_TYPE, pdf.MEDIA_TYPE),
        **responses(422),
    },
)
async def weekly(
    reports: Reports,
    query: Annotated[WeeklyQuery, Query()],
    format: Annotated[WeeklyFormat, Query(description="JSON or a file.")] = WeeklyFormat.JSON,
) -> Any:
    return await weekly_document(reports, query, format)


async def shared_document(
    session: AsyncSession,
    sessions: Sessions,
    caller: Caller,
    kind: ReportKind,
    query: BaseModel,
    extension: str,
    *,
    show_amounts: bool,
) -> Any:
    """A stored report, read now as its sharer would read it, in the format asked for."""
    reports = ReportService(session, caller)
    if kind is ReportKind.DETAILED:
        assert isinstance(query, DetailedQuery)
        return await detailed_document(
            sessions, caller, query, DetailedFormat(extension), show_amounts=show_amounts
        )
    if kind is ReportKind.WEEKLY:
        assert isinstance(query, WeeklyQuery)
        return await weekly_document(
            reports, query, WeeklyFormat(extension), show_amounts=show_amounts
        )
    assert isinstance(query, SummaryQuery)
    report = await summary_report(reports, query)
    if not show_amounts:
        report = without_amounts(report)
    if extension == "json":
        return report
    return await summary_file(report, extension, summary_heading(caller, query))
