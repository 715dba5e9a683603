import uuid
from collections.abc import Sequence
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Annotated, Any

from pydantic import MISSING, AliasChoices, BaseModel, Field, computed_field, field_validator

from app.db.models.time_entry import DESCRIPTION_MAX_LENGTH
from app.db.types import utcnow
from app.enums import ApprovalFilter, EntrySource, LockReason
from app.pagination import MAX_LIMIT
from app.schemas.common import IdList, Input, RatesHidden, Schema, SearchText, UTCDatetime, examples

Description = Annotated[
    str, Field(max_length=DESCRIPTION_MAX_LENGTH, description="What the time was spent on.")
]
TagIds = Annotated[IdList, Field(description="The entry's tags; replaces the set.")]
BulkIds = Annotated[
    list[uuid.UUID],
    Field(min_length=1, max_length=MAX_LIMIT, description="The entries' ids; each gets a result."),
]


class TimerStart(Schema):
    """What the running entry is for; it starts now."""

    model_config = examples(
        {
            "project_id": "7a1e9c3d-2b4f-4d6a-8c0e-1f3a5b7d9e2c",
            "tag_ids": ["6c8d0e2f-4a5b-4c7d-9e1f-2a3b4c5d6e7f"],
            "description": "Wireframes",
        }
    )

    project_id: uuid.UUID | MISSING | None = Field(
        MISSING, description="The project; absent or null: none, or the task's."
    )
    task_id: uuid.UUID | None = Field(
        default=None, description="Without `project_id`, the entry takes the task's project."
    )
    tag_ids: TagIds = []
    description: Description = ""
    billable: bool | MISSING = Field(
        MISSING, description="Defaults to the project's `is_billable`; false without a project."
    )


class TimeEntryCreate(TimerStart):
    """A new entry: finished with `end_at`, running without."""

    model_config = examples(
        {
            "project_id": "7a1e9c3d-2b4f-4d6a-8c0e-1f3a5b7d9e2c",
            "task_id": "3e5f7a9b-1c2d-4e3f-a4b5-c6d7e8f9a0b1",
            "tag_ids": ["6c8d0e2f-4a5b-4c7d-9e1f-2a3b4c5d6e7f"],
            "description": "Wireframes",
            "start_at": "2026-11-03T09:00:00+01:00",
            "end_at": "2026-11-03T10:30:00+01:00",
        }
    )

    start_at: UTCDatetime = Field(description="When it started, with an offset.")
    end_at: UTCDatetime | None = Field(
        default=None, description="Null or absent: the entry is running."
    )
    user_id: uuid.UUID | MISSING = Field(
        MISSING, description="Whose time this is; only admins may name another member."
    )


class TimeEntryUpdate(Schema):
    """Absent fields stay as they are; `project_id` and `task_id` may be set to null."""

    model_config = examples({"end_at": "2026-11-03T11:00:00Z", "description": "Wireframes v2"})

    start_at: UTCDatetime | MISSING = Field(MISSING, description="When it started.")
    end_at: UTCDatetime | MISSING = Field(MISSING, description="Setting it stops a running entry.")
    project_id: uuid.UUID | MISSING | None = Field(
        MISSING, description="A new project drops the old project's task unless `task_id` is set."
    )
    task_id: uuid.UUID | MISSING | None = Field(
        MISSING, description="Without `project_id`, the entry moves to the task's project."
    )
    tag_ids: TagIds | MISSING = MISSING
    description: Description | MISSING = MISSING
    billable: bool | MISSING = Field(MISSING, description="Whether the time is billed.")
    user_id: uuid.UUID | MISSING = Field(MISSING, description="Only admins may reassign entries.")


class TimeEntryRead(RatesHidden):
    """Time someone tracked."""

    model_config = examples(
        {
            "id": "8e0a2c4d-6f7b-4d9e-a1c3-5e7f9b1d3f5a",
            "workspace_id": "4f0c2a7e-8d1b-4c3e-9a55-0d2b6f1e7c10",
            "user_id": "9b2e4d61-3c7a-4f08-8e19-5a6d2c3b4e70",
            "project_id": "7a1e9c3d-2b4f-4d6a-8c0e-1f3a5b7d9e2c",
            "task_id": "3e5f7a9b-1c2d-4e3f-a4b5-c6d7e8f9a0b1",
            "tag_ids": ["6c8d0e2f-4a5b-4c7d-9e1f-2a3b4c5d6e7f"],
            "description": "Wireframes",
            "start_at": "2026-11-03T08:00:00Z",
            "end_at": "2026-11-03T09:30:00Z",
            "billable": True,
            "hourly_rate_cents": None,
            "source": "timer",
            "version": 2,
            "created_at": "2026-11-03T08:00:00Z",
            "updated_at": "2026-11-03T09:30:00Z",
            "deleted_at": None,
            "locked_reason": None,
            "duration_seconds": 5400,
            "locked": False,
        }
    )

    id: uuid.UUID
    workspace_id: uuid.UUID
    user_id: uuid.UUID = Field(description="Whose time this is.")
    project_id: uuid.UUID | None = Field(description="The project; null: none.")
    task_id: uuid.UUID | None = Field(description="The task; null: none.")
    tag_ids: list[uuid.UUID] = Field(
        validation_alias=AliasChoices("tag_ids", "tags"), description="The tags, sorted by id."
    )
    description: str = Field(description="What the time was spent on.")
    start_at: datetime = Field(description="When it started, in UTC.")
    end_at: datetime | None = Field(description="When it ended, in UTC; null while it runs.")
    billable: bool = Field(description="Whether the time is billed.")
    hourly_rate_cents: int | None = Field(
        description="The rate snapshot taken when the entry was written; null when not "
        "billable or where the caller may not see rates."
    )
    source: EntrySource = Field(description="How it was written: by hand, timer, import or API.")
    version: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    locked_reason: LockReason | None = Field(
        description="Why the entry's time is closed: `closed_period` (it starts before the "
        "workspace's `locked_before`; closed to everyone), `submitted` (in a submitted period "
        "of its person; closed to them, admins may still correct it), `approved` (in an "
        "approved period; closed to everyone). Null: open."
    )

    @field_validator("tag_ids", mode="before")
    @classmethod
    def _tag_ids(cls, tags: str | list[Any] | None) -> list[Any]:
        """From a read row, the comma-separated ids; from an entry, its tags or tag ids."""
        if tags is None:
            return []
        if isinstance(tags, str):
            # Canonical ids sort as text the way they sort as ids. SQLite gives them as
            # bare hex, PostgreSQL in the canonical form the JSON holds.
            ids = sorted(tags.split(","))
            return ids if len(ids[0]) == CANONICAL_ID_LENGTH else [str(uuid.UUID(i)) for i in ids]
        return sorted(getattr(tag, "id", tag) for tag in tags)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def duration_seconds(self) -> int:
        """Whole seconds; a running entry counts up to now."""
        return int(((self.end_at or utcnow()) - self.start_at).total_seconds())

    @computed_field  # type: ignore[prop-decorator]
    @property
    def locked(self) -> bool:
        """Whether the entry's time is closed; `locked_reason` says why and to whom."""
        return self.locked_reason is not None

    @classmethod
    def render(cls, rows: Sequence[Any], *, rates_visible: bool) -> list[dict[str, Any]]:
        """This schema's JSON of `rows` (read rows, or entries just written), built straight
        from them: `model_validate` then `model_dump(mode="json")` give the same (tests hold
        them equal) at several times the cost, on the hottest routes. Read rows carry the
        stored fields in the schema's order, so each is zipped with their names."""
        if rows and getattr(rows[0], "_fields", None) == STORED_FIELDS:
            contents = [dict(zip(STORED_FIELDS, row, strict=True)) for row in rows]
        else:
            contents = [{name: getattr(row, name) for name in STORED_FIELDS} for row in rows]
        now = utcnow()
        for content in contents:
            content["tag_ids"] = cls._tag_ids(content["tag_ids"])
            if not rates_visible:
                content["hourly_rate_cents"] = None
            elapsed = (content["end_at"] or now) - content["start_at"]
            content["duration_seconds"] = int(elapsed.total_seconds())
            content["locked"] = content["locked_reason"] is not None
        return contents


# The fields an entry's read row holds, in order; the computed ones follow them.
STORED_FIELDS = tuple(TimeEntryRead.model_fields)
CANONICAL_ID_LENGTH = 36


class TimeEntrySort(StrEnum):
    """The order of the entry list: newest start first, oldest start first, or oldest change
    first (to sync)."""

    START_AT_DESC = "-start_at"
    START_AT = "start_at"
    # Oldest change first, with `updated_since` and `include_deleted`: how clients sync.
    UPDATED_AT = "updated_at"


class EntryCriteria(Input):
    """Which entries, by what they point at; repeated parameters match any of their values.
    Lists, reports and exports share them."""

    user_id: IdList = Field(default=[], description="Entries of these people.")
    project_id: IdList = Field(default=[], description="Entries on these projects.")
    client_id: IdList = Field(default=[], description="Entries on projects of these clients.")
    task_id: IdList = Field(default=[], description="Entries on these tasks.")
    tag_id: IdList = Field(default=[], description="Entries having any of these tags.")
    billable: bool | None = Field(
        default=None, description="`true`: billable entries only; `false`: the others."
    )
    q: SearchText | None = Field(
        default=None, description="Description contains.", examples=["review"]
    )
    approval: ApprovalFilter | None = Field(
        default=None,
        description="Entries in an `approved` period, a `submitted` one, or in none (`open`).",
    )
    locked: bool | None = Field(
        default=None,
        description="`true`: entries in closed time (any reason); `false`: the others.",
    )


class TimeEntryFilters(EntryCriteria):
    """Filters of the entry list."""

    from_: UTCDatetime | None = Field(
        default=None,
        alias="from",
        description="Entries starting at or after this instant.",
        examples=["2026-11-01T00:00:00Z"],
    )
    to: UTCDatetime | None = Field(
        default=None,
        description="Entries starting before this instant.",
        examples=["2026-12-01T00:00:00Z"],
    )
    running: bool | None = Field(
        default=None, description="`true`: the running entry only; `false`: finished ones."
    )
    updated_since: UTCDatetime | None = Field(
        default=None,
        description="Entries changed at or after this instant.",
        examples=["2026-11-03T08:00:00Z"],
    )
    include_deleted: bool = Field(
        default=False, description="Also list deleted entries (tombstones, for sync)."
    )


class TimeEntryBulkUpdate(Schema):
    """The same changes, for each of many entries."""

    model_config = examples(
        {
            "ids": ["8e0a2c4d-6f7b-4d9e-a1c3-5e7f9b1d3f5a", "1b3d5f7a-9c0e-4b2d-8f4a-6c8e0a2c4e6b"],
            "changes": {"billable": False},
        }
    )

    ids: BulkIds
    changes: TimeEntryUpdate = Field(description="What to change in each entry.")


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
    """What became of one entry."""

    id: uuid.UUID
    status: BulkStatus = Field(
        description="What the single request for this entry would have answered."
    )
    detail: str | None = Field(default=None, description="Why it failed; null when it did not.")
    entry: TimeEntryRead | None = Field(
        default=None, description="The entry as changed; null when deleted or failed."
    )


class TimeEntryBulkResults(BaseModel):
    """Each entry's result, in the order of the ids."""

    model_config = examples(
        {
            "results": [
                {
                    "id": "8e0a2c4d-6f7b-4d9e-a1c3-5e7f9b1d3f5a",
                    "status": 204,
                    "detail": None,
                    "entry": None,
                },
                {
                    "id": "1b3d5f7a-9c0e-4b2d-8f4a-6c8e0a2c4e6b",
                    "status": 404,
                    "detail": "Not found.",
                    "entry": None,
                },
            ]
        }
    )

    results: list[TimeEntryBulkResult] = Field(description="One for each id.")
