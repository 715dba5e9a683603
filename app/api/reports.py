"""Reports: time totalled in SQL, by the caller's timezone, rounding and rights."""

from typing import Annotated, Any

from fastapi import Depends, Query

from app.api.deps import service, workspace_router
from app.api.problems import responses
from app.api.report_files import file_content, summary_file, summary_heading
from app.reports import pdf, xlsx
from app.repositories.time_entries import EntryFilters
from app.schemas.report_documents import SummaryFormat
from app.schemas.reports import SummaryGroup, SummaryQuery, SummaryReport, Totals
from app.schemas.time_entries import EntryCriteria
from app.services.reports import Group, ReportService

router = workspace_router("reports", tag="reports")
Reports = Annotated[ReportService, Depends(service(ReportService))]


def _group(group: Group) -> SummaryGroup:
    return SummaryGroup(
        key=group.key,
        label=group.label,
        seconds=group.seconds,
        billable_seconds=group.billable_seconds,
        amount_cents=group.amount_cents,
        groups=[_group(child) for child in group.groups],
    )


@router.get(
    "/summary",
    summary="Summary report",
    description=(
        "Time of the entries the filters select, totalled by `group_by` and optionally "
        "`sub_group_by`. Days, weeks and months are read in `tz` (default: your timezone) "
        "with weeks starting on `week_start`; an entry counts in the bucket its start falls "
        "in. `rounding` rounds each entry to `rounding_minutes` before summing. Members "
        "report on their own time, and see amounts only where the workspace shows them rates. "
        "`format=xlsx` or `pdf` answers the same report as a file (the PDF with a chart)."
    ),
    response_model=SummaryReport,
    responses={
        **file_content("application/json", xlsx.MEDIA_TYPE, pdf.MEDIA_TYPE),
        **responses(422),
    },
)
async def summary_report(
    reports: Reports,
    query: Annotated[SummaryQuery, Query()],
    format: Annotated[SummaryFormat, Query(description="JSON or a file.")] = SummaryFormat.JSON,
) -> Any:
    criteria = query.model_dump(include=set(EntryCriteria.model_fields))
    result = await reports.summary(
        filters=EntryFilters(**criteria),
        group_by=query.group_by,
        sub_group_by=query.sub_group_by,
        start=query.from_,
        end=query.to,
        tz=query.tz,
        week_start=query.week_start,
        rounding=query.rounding,
        rounding_minutes=query.rounding_minutes,
        include_running=query.include_running,
    )
    totals = result.totals
    report = SummaryReport(
        currency=result.currency,
        totals=Totals(
            seconds=totals.seconds,
            billable_seconds=totals.billable_seconds,
            amount_cents=totals.amount_cents,
        ),
        groups=[_group(group) for group in result.groups],
    )
    if format is SummaryFormat.JSON:
        return report
    return await summary_file(report, format, summary_heading(reports.caller, query))
