import re
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, BeforeValidator, Field, Strict, model_validator

from app.enums import WeekStart
from app.schemas.time_entries import EntryCriteria
from app.schemas.users import Timezone


class ReportGroup(StrEnum):
    PROJECT = "project"
    CLIENT = "client"
    TASK = "task"
    USER = "user"
    TAG = "tag"
    BILLABLE = "billable"
    DESCRIPTION = "description"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class Rounding(StrEnum):
    UP = "up"
    DOWN = "down"
    NEAREST = "nearest"


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _dates_as_dates(value: Any) -> Any:
    if isinstance(value, str) and _DATE.fullmatch(value):
        return date.fromisoformat(value)
    return value


# A date (YYYY-MM-DD) is read as that day's start in the report's timezone; anything else
# must be a datetime with an offset, like everywhere in the API.
DayOrInstant = Annotated[
    AwareDatetime | Annotated[date, Strict()], BeforeValidator(_dates_as_dates)
]


class SummaryQuery(EntryCriteria):
    """How a summary report groups, buckets and rounds the entries its filters select."""

    group_by: ReportGroup = Field(description="What the top-level groups are.")
    sub_group_by: ReportGroup | None = Field(default=None, description="Splits each group again.")
    from_: DayOrInstant | None = Field(
        default=None,
        alias="from",
        description="Entries starting at or after this instant; a date means its start in `tz`.",
    )
    to: DayOrInstant | None = Field(
        default=None,
        description="Entries starting before this instant; a date means its start in `tz`.",
    )
    tz: Timezone | None = Field(
        default=None, description="IANA timezone of days, weeks and months; default: yours."
    )
    week_start: WeekStart | None = Field(default=None, description="Default: yours.")
    rounding: Rounding | None = Field(
        default=None, description="Round each entry before summing; needs `rounding_minutes`."
    )
    rounding_minutes: Annotated[int, Field(ge=1, le=1440)] | None = Field(
        default=None, description="The step `rounding` rounds to, in minutes."
    )
    include_running: bool = Field(default=False, description="Count running entries up to now.")

    @model_validator(mode="after")
    def _rounding_needs_minutes(self) -> "SummaryQuery":
        if (self.rounding is None) != (self.rounding_minutes is None):
            raise ValueError("rounding and rounding_minutes go together")
        if self.sub_group_by is not None and self.sub_group_by == self.group_by:
            raise ValueError("sub_group_by must differ from group_by")
        return self


class Totals(BaseModel):
    seconds: int
    billable_seconds: int
    amount_cents: int | None = Field(
        description="Billable time at each entry's rate; null where you may not see rates."
    )


class SummaryGroup(Totals):
    key: str | bool | None = Field(
        description="The id (projects, clients, tasks, users, tags; null for none), the "
        "first day as YYYY-MM-DD (day, week), YYYY-MM (month), true/false (billable), "
        "or the text (description)."
    )
    label: str
    groups: list["SummaryGroup"] = []


class SummaryReport(BaseModel):
    currency: str
    totals: Totals
    groups: list[SummaryGroup]
