import uuid
from datetime import datetime

from pydantic import MISSING, Field

from app.schemas.common import EstimateSeconds, Name, ReadSchema, Schema, examples


class TaskCreate(Schema):
    """A new task in a project."""

    model_config = examples(
        {
            "project_id": "7a1e9c3d-2b4f-4d6a-8c0e-1f3a5b7d9e2c",
            "name": "Design",
            "estimate_seconds": 36000,
        }
    )

    project_id: uuid.UUID = Field(description="The project the task belongs to, for good.")
    name: Name = Field(description="The task's name.")
    estimate_seconds: EstimateSeconds | None = Field(
        default=None, description="How long the task should take; null: no estimate."
    )


class TaskUpdate(Schema):
    """The project is fixed at creation: time entries pin a task to its project."""

    model_config = examples({"done": True}, {"name": "Design review", "estimate_seconds": None})

    name: Name | MISSING = Field(MISSING, description="The task's new name.")
    estimate_seconds: EstimateSeconds | MISSING | None = Field(
        MISSING, description="How long the task should take; null removes the estimate."
    )
    done: bool | MISSING = Field(
        MISSING, description="`true` marks the task done (sets `done_at`), `false` reopens it."
    )


class TaskRead(ReadSchema):
    """A task of a project."""

    model_config = examples(
        {
            "id": "3e5f7a9b-1c2d-4e3f-a4b5-c6d7e8f9a0b1",
            "workspace_id": "4f0c2a7e-8d1b-4c3e-9a55-0d2b6f1e7c10",
            "project_id": "7a1e9c3d-2b4f-4d6a-8c0e-1f3a5b7d9e2c",
            "name": "Design",
            "done_at": None,
            "estimate_seconds": 36000,
            "version": 1,
            "created_at": "2026-11-02T09:00:00Z",
            "updated_at": "2026-11-02T09:00:00Z",
            "deleted_at": None,
        }
    )

    id: uuid.UUID
    workspace_id: uuid.UUID
    project_id: uuid.UUID
    name: str = Field(description="The task's name.")
    done_at: datetime | None = Field(description="When it was marked done; null while open.")
    estimate_seconds: int | None = Field(description="How long it should take; null: no estimate.")
    version: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
