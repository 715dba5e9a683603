"""Shared schema pieces: base config, timezone-aware datetimes, list pages."""

from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from app.pagination import PageResult

T = TypeVar("T")


class Schema(BaseModel):
    """Unknown fields are refused, so a body cannot carry what its sender may not set."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ReadSchema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


# ISO 8601 with an offset; a naive datetime is a validation error.
UTCDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )
    total: int | None = Field(
        default=None, description="Matching items, when `include_total=true`."
    )


S = TypeVar("S", bound=BaseModel)


def page_of(schema: type[S], result: PageResult[Any]) -> Page[S]:
    """The response for one page of rows, each rendered with `schema`."""
    return Page[schema](  # type: ignore[valid-type]
        items=[schema.model_validate(row) for row in result.items],
        next_cursor=result.next_cursor,
        total=result.total,
    )
