"""The detailed report, the weekly timesheet, the files reports come as, and shared links."""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, Field, model_validator

from app.schemas.common import ReadSchema, Schema, SupportedDate, UTCDatetime, examples
from app.schemas.reports import ReportFrom, ReportTo, SummaryQuery, Totals
from app.schemas.time_entries import EntryCriteria
from app.schemas.users import Timezone


class SummaryFormat(StrEnum):
    """The summary as JSON, a spreadsheet, or a PDF with a chart."""

    JSON = "json"
    XLSX = "xlsx"
    PDF = "pdf"


class DetailedFormat(StrEnum):
    """The detailed report as JSON, a spreadsheet (the entries export), or a PDF."""

    JSON = "json"
    XLSX = "xlsx"
    PDF = "pdf"


class WeeklyFormat(StrEnum):
    """The timesheet as JSON, CSV, a spreadsheet, or a PDF."""

    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"
    PDF = "pdf"


class DetailedGrouping(StrEnum):
    """The headings of a detailed report: local days, or projects."""

    DAY = "day"
    PROJECT = "project"


class WeeklyRows(StrEnum):
    """The lines of a timesheet: people, or projects."""

    USER = "user"
    PROJECT = "project"


class DetailedQuery(EntryCriteria):
    """Which entries a detailed report lists, and under which headings."""

    group_by: DetailedGrouping = Field(
        default=DetailedGrouping.DAY, description="Headings: local days or projects."
    )
    from_: ReportFrom = None
    to: ReportTo = None
    tz: Timezone | None = Field(
        default=None,
        description="IANA timezone of days and times; default: yours.",
        examples=["Europe/Berlin"],
    )


class WeeklyQuery(EntryCriteria):
    """Which week (or days) a timesheet covers, and what its lines are."""

    week: Annotated[str, Field(pattern=r"^\d{4}-W\d{2}$")] | None = Field(
        default=None,
        description="The ISO week, Monday to Sunday; or give `from` and `to`. "
        "Default: the current week.",
        examples=["2026-W48"],
    )
    from_: SupportedDate | None = Field(
        default=None, alias="from", description="The first day.", examples=["2026-11-23"]
    )
    to: SupportedDate | None = Field(
        default=None,
        description="The day after the last (at most 31 days).",
        examples=["2026-11-30"],
    )
    tz: Timezone | None = Field(
        default=None,
        description="IANA timezone of the days; default: yours.",
        examples=["Europe/Berlin"],
    )
    rows: WeeklyRows | None = Field(
        default=None,
        description="Lines: `user` or `project`. Default: projects when the sheet is about "
        "one person (one `user_id`, or a member's own time), else people.",
    )

    @model_validator(mode="after")
    def _one_period(self) -> "WeeklyQuery":
        if self.week is not None and (self.from_ is not None or self.to is not None):
            raise ValueError("give week, or from and to, not both")
        if (self.from_ is None) != (self.to is None):
            raise ValueError("from and to go together")
        if self.from_ is not None and self.to is not None and self.to <= self.from_:
            raise ValueError("to must be after from")
        return self


class DetailedEntryRead(BaseModel):
    """One entry of a detailed report."""

    id: uuid.UUID
    user: str = Field(description="Who tracked it.")
    client: str | None = Field(description="The client's name; null: none.")
    project: str | None = Field(description="The project's name; null: none.")
    task: str | None = Field(description="The task's name; null: none.")
    description: str = Field(description="What was done.")
    start_at: datetime = Field(description="When it started.")
    end_at: datetime = Field(description="When it ended.")
    seconds: int = Field(description="How long it took.")
    billable: bool = Field(description="Whether it bills.")
    amount_cents: int | None = Field(description="Null where amounts do not show.")
    tags: list[str] = Field(description="Tag names.")


class DetailedGroupRead(Totals):
    """One heading of a detailed report: its entries and their subtotal."""

    key: str | None = Field(description="The day (YYYY-MM-DD) or the project's id; null: none.")
    label: str = Field(description="The heading as people read it.")
    entries: list[DetailedEntryRead] = Field(description="In time order.")


class DetailedReportRead(BaseModel):
    """Entries one by one under a heading per day or project, with subtotals."""

    model_config = examples(
        {
            "currency": "EUR",
            "totals": {"seconds": 5400, "billable_seconds": 5400, "amount_cents": 15000},
            "groups": [
                {
                    "key": "2026-11-23",
                    "label": "Monday, 2026-11-23",
                    "seconds": 5400,
                    "billable_seconds": 5400,
                    "amount_cents": 15000,
                    "entries": [
                        {
                            "id": "0c9f8e7d-6b5a-4c3d-9e2f-1a0b9c8d7e6f",
                            "user": "Ada Lovelace",
                            "client": "Acme",
                            "project": "Website relaunch",
                            "task": None,
                            "description": "Wireframes",
                            "start_at": "2026-11-23T08:00:00Z",
                            "end_at": "2026-11-23T09:30:00Z",
                            "seconds": 5400,
                            "billable": True,
                            "amount_cents": 15000,
                            "tags": ["design"],
                        }
                    ],
                }
            ],
        }
    )

    currency: str = Field(description="ISO 4217 code of the amounts.")
    totals: Totals = Field(description="Every listed entry together.")
    groups: list[DetailedGroupRead] = Field(description="Days in order, or projects by name.")


class WeeklyLineRead(BaseModel):
    """One person's or project's time in the timesheet."""

    key: str | None = Field(description="The user's or project's id; null: no project.")
    label: str = Field(description="The name.")
    days: list[int] = Field(description="Seconds on each day, in the order of `days`.")
    seconds: int = Field(description="The line's total.")
    amount_cents: int | None = Field(description="Null where amounts do not show.")


class WeeklyReport(BaseModel):
    """People (or projects) by days, with totals per line, per day and overall."""

    model_config = examples(
        {
            "currency": "EUR",
            "rows": "user",
            "timezone": "Europe/Berlin",
            "days": ["2026-11-23", "2026-11-24"],
            "lines": [
                {
                    "key": "9b2e4d61-3c7a-4f08-8e19-5a6d2c3b4e70",
                    "label": "Ada Lovelace",
                    "days": [28800, 27000],
                    "seconds": 55800,
                    "amount_cents": 139500,
                }
            ],
            "day_totals": [28800, 27000],
            "seconds": 55800,
            "amount_cents": 139500,
        }
    )

    currency: str = Field(description="ISO 4217 code of the amounts.")
    rows: WeeklyRows = Field(description="What the lines are.")
    timezone: str = Field(description="The timezone the days are read in.")
    days: list[date] = Field(description="The columns, in order.")
    lines: list[WeeklyLineRead] = Field(description="By name, the line of none last.")
    day_totals: list[int] = Field(description="Seconds on each day, all lines together.")
    seconds: int = Field(description="Everything together.")
    amount_cents: int | None = Field(description="Null where amounts do not show.")


class ReportKind(StrEnum):
    """Which report a shared link shows."""

    SUMMARY = "summary"
    DETAILED = "detailed"
    WEEKLY = "weekly"


REPORT_QUERIES: dict[ReportKind, type[BaseModel]] = {
    ReportKind.SUMMARY: SummaryQuery,
    ReportKind.DETAILED: DetailedQuery,
    ReportKind.WEEKLY: WeeklyQuery,
}


class ReportShareCreate(Schema):
    """A link that shows one report, with these parameters, to whoever holds it."""

    model_config = examples(
        {
            "report": "summary",
            "params": {"group_by": "project", "sub_group_by": "week", "from": "2026-11-01"},
            "expires_at": "2026-12-31T23:59:59Z",
            "show_amounts": True,
        }
    )

    report: ReportKind = Field(description="`summary`, `detailed` or `weekly`.")
    params: dict[str, Any] = Field(
        default={},
        description="The report's query parameters, as its own route takes them (lists as "
        "arrays). Checked now; read again at each visit, so the data is always current.",
    )
    expires_at: UTCDatetime | None = Field(
        default=None, description="After this the link answers 404; null: until revoked."
    )
    show_amounts: bool = Field(
        default=False,
        description="Show amounts; only for sharers who see rates themselves.",
    )


_SHARE_EXAMPLE = {
    "id": "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a",
    "workspace_id": "4f0c2a7e-8d1b-4c3e-9a55-0d2b6f1e7c10",
    "created_by_user_id": "9b2e4d61-3c7a-4f08-8e19-5a6d2c3b4e70",
    "report": "summary",
    "params": {"group_by": "project", "from": "2026-11-01"},
    "show_amounts": True,
    "expires_at": "2026-12-31T23:59:59Z",
    "revoked_at": None,
    "version": 1,
    "created_at": "2026-12-04T09:00:00Z",
}


class ReportShareRead(ReadSchema):
    """A shared link (its secret is shown only once, when it is made)."""

    model_config = examples(_SHARE_EXAMPLE)

    id: uuid.UUID
    workspace_id: uuid.UUID
    created_by_user_id: uuid.UUID | None = Field(description="Who shared it.")
    report: ReportKind = Field(description="Which report the link shows.")
    params: dict[str, Any] = Field(description="The stored parameters.")
    show_amounts: bool = Field(description="Whether the link shows amounts.")
    expires_at: datetime | None = Field(description="When the link stops; null: never.")
    revoked_at: datetime | None = Field(description="When it was revoked; null: live.")
    version: int = Field(description="Sent back as `If-Match` to revoke only this state.")
    created_at: datetime = Field(description="When it was shared.")


class ReportShareCreated(ReportShareRead):
    """A new shared link and its secret."""

    model_config = examples(
        {
            **_SHARE_EXAMPLE,
            "secret": "tsr_Jq3v9X0bQk2hT7nWc5yLr8pZs1dFg4aEe6uMi0oNxYw",
            "url": "/api/v1/shared-reports/tsr_Jq3v9X0bQk2hT7nWc5yLr8pZs1dFg4aEe6uMi0oNxYw",
        }
    )

    secret: str = Field(description="Shown once: the link is /api/v1/shared-reports/{secret}.")
    url: str = Field(description="The link's path on this server.")
