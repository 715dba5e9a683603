"""Events as the audit log shows them, and the filters that pick them."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from app.db.models.event import EVENT_TYPE_MAX_LENGTH
from app.enums import EventOrigin
from app.schemas.common import (
    MAX_IDS,
    RATE_FIELDS,
    RATES_VISIBLE,
    Input,
    ReadSchema,
    UTCDatetime,
    examples,
)

# `time_entry.updated`, a kind's every event `time_entry.*`, or every event `*`.
EVENT_TYPE_PATTERN = r"^(\*|[a-z_]+\.([a-z_]+|\*))$"
EventTypePattern = Annotated[
    str, Field(pattern=EVENT_TYPE_PATTERN, max_length=EVENT_TYPE_MAX_LENGTH)
]


class EventOrder(StrEnum):
    """Oldest first (to follow the log) or newest first (to read it)."""

    SEQUENCE = "sequence"
    SEQUENCE_DESC = "-sequence"


class EventFilters(Input):
    """Filters of the audit log."""

    type: Annotated[list[EventTypePattern], Field(max_length=MAX_IDS)] = Field(
        default=[],
        description="Events of these types; `time_entry.*` stands for every type of a kind.",
        examples=[["time_entry.*", "timer.started"]],
    )
    subject_id: uuid.UUID | None = Field(default=None, description="Events of this subject.")
    actor_id: uuid.UUID | None = Field(default=None, description="Events this user caused.")
    from_: UTCDatetime | None = Field(
        default=None,
        alias="from",
        description="Events at or after this instant.",
        examples=["2026-11-01T00:00:00Z"],
    )
    to: UTCDatetime | None = Field(
        default=None,
        description="Events before this instant.",
        examples=["2026-12-01T00:00:00Z"],
    )
    after: int | None = Field(
        default=None, ge=0, description="Events with a sequence number above this one."
    )

    def types(self) -> list[str]:
        return [] if "*" in self.type else self.type


class EventSubjectRead(BaseModel):
    """What an event is about."""

    type: str = Field(description="`time_entry`, `client`, `project`, `member`, …")
    id: uuid.UUID = Field(description="The subject's id; for a member, their user id.")


class EventRead(ReadSchema):
    """One change: who made it, how, and the subject after it.

    `data.object` is the subject after the change; for updates, `data.previous` holds the
    old value of each field that changed. Rates are null where the reader cannot see them.
    """

    model_config = ConfigDict(from_attributes=True) | examples(
        {
            "id": "0f4c1d2e-3a5b-4c6d-8e9f-a0b1c2d3e4f5",
            "sequence": 42,
            "type": "time_entry.updated",
            "workspace_id": "4f0c2a8e-1b3d-4e5f-9a7b-6c8d0e2f4a6b",
            "occurred_at": "2026-11-03T09:15:00Z",
            "actor_id": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
            "origin": "api",
            "request_id": "a1b2c3d4",
            "subject": {"type": "time_entry", "id": "8e0a2c4d-6f7b-4d9e-a1c3-5e7f9b1d3f5a"},
            "data": {
                "object": {"id": "8e0a2c4d-6f7b-4d9e-a1c3-5e7f9b1d3f5a", "description": "New"},
                "previous": {"description": "Old"},
            },
        }
    )

    id: uuid.UUID = Field(description="The event's id; the same in every delivery of it.")
    sequence: int = Field(description="The event's place in its workspace, in commit order.")
    type: str = Field(description="`<subject>.<verb>`, e.g. `client.created`, `timer.stopped`.")
    workspace_id: uuid.UUID = Field(description="The workspace the change was made in.")
    occurred_at: datetime = Field(description="When the change was committed.")
    actor_id: uuid.UUID | None = Field(description="Who made the change; null for the CLI.")
    origin: EventOrigin = Field(description="How the change came: `api`, `cli` or `import`.")
    request_id: str | None = Field(description="The `X-Request-ID` of the API request.")
    subject: EventSubjectRead = Field(description="What the event is about.")
    data: dict[str, Any] = Field(
        description="`object`: the subject after the change; `previous`: for updates, the "
        "old value of each changed field."
    )

    @model_validator(mode="before")
    @classmethod
    def _from_row(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, dict):
            return value
        data = value.data
        if not (info.context or {}).get(RATES_VISIBLE):
            data = {part: _without_rates(fields) for part, fields in data.items()}
        return {
            "id": value.id,
            "sequence": value.sequence,
            "type": value.type,
            "workspace_id": value.workspace_id,
            "occurred_at": value.occurred_at,
            "actor_id": value.actor_id,
            "origin": value.origin,
            "request_id": value.request_id,
            "subject": {"type": value.subject_type, "id": value.subject_id},
            "data": data,
        }


def _without_rates(fields: Any) -> Any:
    if not isinstance(fields, dict):
        return fields
    return {key: (None if key in RATE_FIELDS else item) for key, item in fields.items()}


class StreamTicketRead(BaseModel):
    """A single-use pass to the workspace's event stream, for clients that cannot send an
    Authorization header (a browser's `EventSource`)."""

    model_config = examples(
        {
            "ticket": "tst_9Qm2vXkq8o1sZc4Yb7TtR0n5wLhPj3aE6dFgUiKyMVo",
            "expires_at": "2026-11-03T09:16:00Z",
        }
    )

    ticket: str = Field(
        description="Pass it as `?ticket=` to `GET …/events/stream` once, before it expires."
    )
    expires_at: datetime = Field(description="When the ticket stops working, 60 s after issue.")
