import uuid
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Annotated, Any

from pydantic import MISSING, AliasChoices, BaseModel, Field, computed_field, field_validator

from app.db.models.time_entry import DESCRIPTION_MAX_LENGTH
from app.db.types import utcnow
from app.enums import EntrySource
from app.pagination import MAX_LIMIT
from app.schemas.common import Input, RatesHidden, Schema, UTCDatetime

Description = Annotated[str, Field(max_length=DESCRIPTION_MAX_LENGTH)]
TagIds = Annotated[
    list[uuid.UUID], Field(max_length=100, description="The entry's tags; replaces the set.")
]
BulkIds = Annotated[
    list[uuid.UUID],
    Field(min_length=1, max_length=MAX_LIMIT, description="The entries' ids; each gets a result."),
]


class TimerStart(Schema):
    project_id: uuid.UUID | MISSING | None = MISSING
    task_id: uuid.UUID | None = Field(
        default=None, description="Without `project_id`, the entry takes the task's project."
    )
    tag_ids: TagIds = []
    description: Description = ""
    billable: bool | MISSING = Field(
        MISSING, description="Defaults to the project's `is_billable`; false without a project."
    )


class TimeEntryCreate(TimerStart):
    start_at: UTCDatetime
    end_at: UTCDatetime | None = Field(
        default=None, description="Null or absent: the entry is running."
    )
    user_id: uuid.UUID | MISSING = Field(
        MISSING, description="Whose time this is; only admins may name another member."
    )


class TimeEntryUpdate(Schema):
    """Absent fields stay as they are; `project_id` and `task_id` may be set to null."""

    start_at: UTCDatetime | MISSING = MISSING
    end_at: UTCDatetime | MISSING = Field(MISSING, description="Setting it stops a running entry.")
    project_id: uuid.UUID | MISSING | None = Field(
        MISSING, description="A new project drops the old project's task unless `task_id` is set."
    )
    task_id: uuid.UUID | MISSING | None = Field(
        MISSING, description="Without `project_id`, the entry moves to the task's project."
    )
    tag_ids: TagIds | MISSING = MISSING
    description: Description | MISSING = MISSING
    billable: bool | MISSING = MISSING
    user_id: uuid.UUID | MISSING = Field(MISSING, description="Only admins may reassign entries.")


class TimeEntryRead(RatesHidden):
    id: uuid.UUID
    workspace_id: uuid.UUID
    user_id: uuid.UUID
    project_id: uuid.UUID | None
    task_id: uuid.UUID | None
    tag_ids: list[uuid.UUID] = Field(validation_alias=AliasChoices("tag_ids", "tags"))
    description: str
    start_at: datetime
    end_at: datetime | None
    billable: bool
    hourly_rate_cents: int | None = Field(
        description="The rate snapshot taken when the entry was written; null when not "
        "billable or where the caller may not see rates."
    )
    source: EntrySource
    version: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None

    @field_validator("tag_ids", mode="before")
    @classmethod
    def _tag_ids(cls, tags: str | list[Any] | None) -> list[uuid.UUID]:
        """From a read row, the comma-separated ids; from an entry, its tags or tag ids."""
        if tags is None:
            return []
        if isinstance(tags, str):
            return sorted(uuid.UUID(tag_id) for tag_id in tags.split(","))
        return sorted(getattr(tag, "id", tag) for tag in tags)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def duration_seconds(self) -> int:
        """Whole seconds; a running entry counts up to now."""
        return int(((self.end_at or utcnow()) - self.start_at).total_seconds())


class TimeEntrySort(StrEnum):
    START_AT_DESC = "-start_at"
    START_AT = "start_at"
    # Oldest change first, with `updated_since` and `include_deleted`: how clients sync.
    UPDATED_AT = "updated_at"


class EntryCriteria(Input):
    """Which entries, by what they point at; repeated parameters match any of their values.
    Lists, reports and exports share them."""

    user_id: list[uuid.UUID] = Field(default=[], description="Entries of these people.")
    project_id: list[uuid.UUID] = Field(default=[], description="Entries on these projects.")
    client_id: list[uuid.UUID] = Field(
        default=[], description="Entries on projects of these clients."
    )
    task_id: list[uuid.UUID] = Field(default=[], description="Entries on these tasks.")
    tag_id: list[uuid.UUID] = Field(default=[], description="Entries having any of these tags.")
    billable: bool | None = Field(
        default=None, description="`true`: billable entries only; `false`: the others."
    )
    q: str | None = Field(default=None, max_length=200, description="Description contains.")


class TimeEntryFilters(EntryCriteria):
    """Filters of the entry list."""

    from_: UTCDatetime | None = Field(
        default=None, alias="from", description="Entries starting at or after this instant."
    )
    to: UTCDatetime | None = Field(
        default=None, description="Entries starting before this instant."
    )
    running: bool | None = Field(
        default=None, description="`true`: the running entry only; `false`: finished ones."
    )
    updated_since: UTCDatetime | None = Field(
        default=None, description="Entries changed at or after this instant."
    )
    include_deleted: bool = Field(
        default=False, description="Also list deleted entries (tombstones, for sync)."
    )


class TimeEntryBulkUpdate(Schema):
    ids: BulkIds
    changes: TimeEntryUpdate


class BulkStatus(IntEnum):
    """The HTTP status the single request for one entry would have answered."""

    OK = 200
    NO_CONTENT = 204
    FORBIDDEN = 403
    NOT_FOUND = 404
    CONFLICT = 409
    PRECONDITION_FAILED = 412
    UNPROCESSABLE_CONTENT = 422


class TimeEntryBulkResult(BaseModel):
    id: uuid.UUID
    status: BulkStatus = Field(
        description="What the single request for this entry would have answered."
    )
    detail: str | None = None
    entry: TimeEntryRead | None = None


class TimeEntryBulkResults(BaseModel):
    results: list[TimeEntryBulkResult]
