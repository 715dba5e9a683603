"""Shared schema pieces: base config, timezone-aware datetimes, bounded text and lists,
list pages."""

import uuid
from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    MISSING,
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from app.db.types import INT32_MAX
from app.instants import supported_utc
from app.pagination import PageResult

T = TypeVar("T")


def refuse_nul(value: Any) -> Any:
    """Refuse NUL characters anywhere in `value`: PostgreSQL cannot store them in text, and
    no name, description or email needs one."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("text must not contain NUL (\\u0000) characters")
    elif isinstance(value, dict):
        for key, item in value.items():
            refuse_nul(key)
            refuse_nul(item)
    elif isinstance(value, list | tuple):
        for item in value:
            refuse_nul(item)
    return value


class Input(BaseModel):
    """What clients send (bodies, forms, query models): no NUL characters anywhere."""

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: Any) -> Any:
        return refuse_nul(data)


class Schema(Input):
    """Unknown fields are refused, so a body cannot carry what its sender may not set."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ReadSchema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def examples(*values: dict[str, Any]) -> ConfigDict:
    """The config giving a schema its examples in the OpenAPI document."""
    return ConfigDict(json_schema_extra={"examples": list(values)})


def _supported_day(value: date) -> date:
    supported_utc(datetime.combine(value, time(), UTC))
    return value


# ISO 8601 with an offset, in UTC once validated; a naive datetime or one out of range
# (`app.instants`) is a validation error. Every datetime the API accepts is one of these.
UTCDatetime = Annotated[AwareDatetime, AfterValidator(supported_utc)]
SupportedDate = Annotated[date, AfterValidator(_supported_day)]

# Sizes of what requests carry, so no input is bigger than what it stands for.
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
SearchText = Annotated[str, Field(max_length=200)]
# Ids a request names at once (filters, tags of an entry).
MAX_IDS = 100
IdList = Annotated[list[uuid.UUID], Field(max_length=MAX_IDS)]

HourlyRateCents = Annotated[int, Field(ge=0, le=INT32_MAX, description="Cents per hour.")]
EstimateSeconds = Annotated[int, Field(gt=0, le=INT32_MAX)]
BudgetCents = Annotated[int, Field(gt=0, le=2**53, description="Cents.")]


class ArchivableUpdate(Schema):
    archived: bool | MISSING = Field(
        MISSING, description="`true` archives (sets `archived_at`), `false` unarchives."
    )


RATES_VISIBLE = "rates_visible"
# Money: rates and what they add up to, shown only to whoever may see rates.
RATE_FIELDS = (
    "hourly_rate_cents",
    "default_hourly_rate_cents",
    "budget_cents",
    "spent_cents",
    "amount_cents",
)


def rate_context(visible: bool) -> dict[str, Any]:
    """The validation context that decides whether a read shows `hourly_rate_cents`."""
    return {RATES_VISIBLE: visible}


class RatesHidden(ReadSchema):
    """A read whose rates are null unless validated with `rate_context(True)`.

    Hidden is the default, so a forgotten context cannot leak a rate.
    """

    @field_validator(*RATE_FIELDS, check_fields=False)
    @classmethod
    def _hide_rate(cls, value: int | None, info: ValidationInfo) -> int | None:
        return value if (info.context or {}).get(RATES_VISIBLE) else None


class Page(BaseModel, Generic[T]):
    # A description rather than a docstring: each `Page[X]` schema repeats it.
    model_config = ConfigDict(
        json_schema_extra={"description": "One page of a list; follow `next_cursor` for the next."}
    )

    items: list[T] = Field(description="This page's items, in the list's order.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )
    total: int | None = Field(
        default=None,
        description="How many items match across all pages, when `include_total=true`; "
        "otherwise null.",
    )


S = TypeVar("S", bound=BaseModel)


def page_of(
    schema: type[S], result: PageResult[Any], *, context: dict[str, Any] | None = None
) -> Page[S]:
    """The response for one page of rows, each rendered with `schema` (and `context`)."""
    return Page[schema](  # type: ignore[valid-type]
        items=[schema.model_validate(row, context=context) for row in result.items],
        next_cursor=result.next_cursor,
        total=result.total,
    )
