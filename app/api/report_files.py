"""Reports as files: the headings they print, and the responses that carry them (a PDF
rendered off the event loop, a spreadsheet streamed from its temporary file)."""

import asyncio
import csv
import io
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from starlette.background import BackgroundTask

from app.reports import pdf, xlsx
from app.reports.cells import escape_formula
from app.reports.document import Heading, describe_filters, hours, period
from app.repositories.time_entries import EntryFilters
from app.schemas.report_documents import WeeklyReport
from app.schemas.reports import SummaryGroup, SummaryQuery, SummaryReport
from app.schemas.time_entries import EntryCriteria
from app.services.caller import Caller

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


def file_content(*media_types: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI description of a 200 that is JSON or one of these files."""
    return {
        200: {
            "description": "The report, as JSON or as the file `format` names.",
            "content": {media_type: {} for media_type in media_types},
            "headers": {
                "Content-Disposition": {
                    "description": 'For files: `attachment; filename="<name>"`.',
                    "schema": {"type": "string"},
                }
            },
        }
    }


def local_day(value: date | datetime | None, zone: ZoneInfo) -> date | None:
    if isinstance(value, datetime):
        return value.astimezone(zone).date()
    return value


def heading(
    title: str,
    caller: Caller,
    filters: EntryFilters,
    *,
    start: date | None,
    end: date | None,
    timezone: str,
) -> Heading:
    workspace = caller.current_workspace()
    return Heading(
        title=title,
        workspace=workspace.name,
        currency=workspace.currency,
        period=period(start, end),
        timezone=timezone,
        filters=describe_filters(filters),
    )


def _filename(stem: str, extension: str) -> str:
    return f"{stem}-{datetime.now(UTC):%Y%m%d-%H%M%S}.{extension}"


def attachment(content: bytes, media_type: str, stem: str, extension: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{_filename(stem, extension)}"'},
    )


def workbook_response(book: xlsx.Workbook, stem: str) -> StreamingResponse:
    """A closed workbook, streamed from its file, which is removed afterwards."""
    return StreamingResponse(
        book.chunks(),
        media_type=xlsx.MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{_filename(stem, "xlsx")}"'},
        background=BackgroundTask(book.discard),
    )


def without_amounts(report: Any) -> Any:
    """A report's copy with every amount null, for a link shared without them."""
    if isinstance(report, list):
        return [without_amounts(item) for item in report]
    if not isinstance(report, BaseModel):
        return report
    changes = {}
    for name in type(report).model_fields:
        value = getattr(report, name)
        if name == "amount_cents":
            changes[name] = None
        elif isinstance(value, list | BaseModel):
            changes[name] = without_amounts(value)
    return report.model_copy(update=changes)


async def summary_file(report: SummaryReport, extension: str, heading: Heading) -> Response:
    groups: Sequence[SummaryGroup] = report.groups
    if extension == "pdf":
        content = await asyncio.to_thread(pdf.summary_pdf, heading, report.totals, groups)
        return attachment(content, pdf.MEDIA_TYPE, "summary", "pdf")
    book = await asyncio.to_thread(xlsx.summary_workbook, heading, report.totals, groups)
    return workbook_response(book, "summary")


async def weekly_file(report: WeeklyReport, extension: str, heading: Heading) -> Response:
    title = "Person" if report.rows == "user" else "Project"
    lines = [(line.label, line.days, line.seconds) for line in report.lines]
    if extension == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow([title, *(day.isoformat() for day in report.days), "Total"])
        for label, seconds, total in lines:
            writer.writerow([escape_formula(label), *map(hours, seconds), hours(total)])
        writer.writerow(["Total", *map(hours, report.day_totals), hours(report.seconds)])
        return attachment(buffer.getvalue().encode(), CSV_MEDIA_TYPE, "weekly", "csv")
    if extension == "pdf":
        content = await asyncio.to_thread(
            pdf.weekly_pdf, heading, report.days, lines, report.day_totals, report.seconds
        )
        return attachment(content, pdf.MEDIA_TYPE, "weekly", "pdf")
    book = await asyncio.to_thread(
        xlsx.weekly_workbook, heading, title, report.days, lines, report.day_totals, report.seconds
    )
    return workbook_response(book, "weekly")


def summary_heading(caller: Caller, query: SummaryQuery) -> Heading:
    criteria = query.model_dump(include=set(EntryCriteria.model_fields))
    zone_name = query.tz or caller.user.timezone
    zone = ZoneInfo(zone_name)
    return heading(
        "Summary report",
        caller,
        EntryFilters(**criteria),
        start=local_day(query.from_, zone),
        end=local_day(query.to, zone),
        timezone=zone_name,
    )
