import re
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field, Strict, model_validator

from app.enums import WeekStart
from app.schemas.common import SupportedDate, UTCDatetime, examples
from app.schemas.time_entries import EntryCriteria
from app.schemas.users import Timezone


class ReportGroup(StrEnum):
    """What a report groups entries by."""

    PROJECT = "project"
    CLIENT = "client"
    TASK = "task"
    USER = "user"
    TAG = "tag"
    BILLABLE = "billable"
    DESCRIPTION = "description"
    APPROVAL = "approval"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class Rounding(StrEnum):
    """How each entry's time is rounded to `rounding_minutes` before summing."""

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
    UTCDatetime | Annotated[SupportedDate, Strict()], BeforeValidator(_dates_as_dates)
]

# The period a report covers, as every report's query names it.
ReportFrom = Annotated[
    DayOrInstant | None,
    Field(
        alias="from",
        description="Entries starting at or after this instant; a date means its start in `tz`.",
        examples=["2026-11-01"],
    ),
]
ReportTo = Annotated[
    DayOrInstant | None,
    Field(
        description="Entries starting before this instant; a date means its start in `tz`.",
        examples=["2026-12-01"],
    ),
]


class SummaryQuery(EntryCriteria):
    """How a summary report groups, buckets and rounds the entries its filters select."""

    group_by: ReportGroup = Field(description="What the top-level groups are.")
    sub_group_by: ReportGroup | None = Field(default=None, description="Splits each group again.")
    from_: ReportFrom = None
    to: ReportTo = None
    tz: Timezone | None = Field(
        default=None,
        description="IANA timezone of days, weeks and months; default: yours.",
        examples=["Europe/Berlin"],
    )
    week_start: WeekStart | None = Field(default=None, description="Default: yours.")
    rounding: Rounding | None = Field(
        default=None, description="Round each entry before summing; needs `rounding_minutes`."
    )
    rounding_minutes: Annotated[int, Field(ge=1, le=1440)] | None = Field(
        default=None, description="The step `rounding` rounds to, in minutes.", examples=[15]
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
    """Time and money of the entries counted."""

    seconds: int = Field(description="All the time, rounded as asked.")
    billable_seconds: int = Field(description="The billable part of it.")
    amount_cents: int | None = Field(
        description="Billable time at each entry's rate; null where you may not see rates."
    )


class SummaryGroup(Totals):
    """The time of the entries sharing one key."""

    key: str | bool | None = Field(
        description="The id (projects, clients, tasks, users, tags; null for none), the "
        "first day as YYYY-MM-DD (day, week), YYYY-MM (month), true/false (billable), "
        "the text (description), or `approved`/`submitted`/`open` (approval)."
    )
    label: str = Field(
        description="The key for people: a name, a date, `Billable`/`Non-billable`, or the text."
    )
    groups: list["SummaryGroup"] = Field(
        default=[], description="The `sub_group_by` groups within this one; empty without it."
    )


class SummaryReport(BaseModel):
    """Time of the selected entries, totalled and grouped."""

    model_config = examples(
        {
            "currency": "GBP",
            "totals": {"seconds": 27000, "billable_seconds": 21600, "amount_cents": 48000},
            "groups": [
                {
                    "key": "7a1e9c3d-2b4f-4d6a-8c0e-1f3a5b7d9e2c",
                    "label": "Website relaunch",
                    "seconds": 21600,
                    "billable_seconds": 21600,
                    "amount_cents": 48000,
                    "groups": [],
                },
                {
                    "key": None,
                    "label": "(no project)",
                    "seconds": 5400,
                    "billable_seconds": 0,
                    "amount_cents": 0,
                    "groups": [],
                },
            ],
        }
    )

    currency: str = Field(description="ISO 4217 code of the amounts.")
    totals: Totals = Field(description="Every selected entry together.")
    groups: list[SummaryGroup] = Field(
        description="By `group_by`: days, weeks and months in time order, others by label, "
        "the group of none last."
    )
