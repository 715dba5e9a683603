import uuid
from datetime import datetime

from pydantic import MISSING, Field

from app.schemas.common import EstimateSeconds, Name, ReadSchema, Schema


class TaskCreate(Schema):
    project_id: uuid.UUID
    name: Name
    estimate_seconds: EstimateSeconds | None = None


class TaskUpdate(Schema):
    """The project is fixed at creation: time entries pin a task to its project."""

    name: Name | MISSING = MISSING
    estimate_seconds: EstimateSeconds | MISSING | None = MISSING
    done: bool | MISSING = Field(
        MISSING, description="`true` marks the task done (sets `done_at`), `false` reopens it."
    )


class TaskRead(ReadSchema):
    id: uuid.UUID
    workspace_id: uuid.UUID
    project_id: uuid.UUID
    name: str
    done_at: datetime | None
    estimate_seconds: int | None
    version: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
