import uuid
from datetime import datetime

from pydantic import MISSING, Field

from app.schemas.common import HourlyRateCents, RatesHidden, Schema, examples


class ProjectMemberCreate(Schema):
    """A workspace member to add to the project."""

    model_config = examples(
        {"user_id": "9b2e4d61-3c7a-4f08-8e19-5a6d2c3b4e70", "hourly_rate_cents": 12000}
    )

    user_id: uuid.UUID = Field(description="The workspace member's user id.")
    hourly_rate_cents: HourlyRateCents | None = Field(
        default=None,
        description="Their rate on this project, before the project's own; null: none.",
    )


class ProjectMemberUpdate(Schema):
    """A project member's new rate."""

    model_config = examples({"hourly_rate_cents": 12500})

    hourly_rate_cents: HourlyRateCents | MISSING | None = Field(
        MISSING, description="Their rate on this project, before the project's own; null: none."
    )


class ProjectMemberRead(RatesHidden):
    """A member of a project."""

    model_config = examples(
        {
            "id": "2d4f6a8c-0e1b-4a3c-9d5e-7f9a1b3c5d7e",
            "workspace_id": "4f0c2a7e-8d1b-4c3e-9a55-0d2b6f1e7c10",
            "project_id": "7a1e9c3d-2b4f-4d6a-8c0e-1f3a5b7d9e2c",
            "user_id": "9b2e4d61-3c7a-4f08-8e19-5a6d2c3b4e70",
            "hourly_rate_cents": 12000,
            "version": 1,
            "created_at": "2026-11-02T09:00:00Z",
            "updated_at": "2026-11-02T09:00:00Z",
        }
    )

    id: uuid.UUID
    workspace_id: uuid.UUID
    project_id: uuid.UUID
    user_id: uuid.UUID
    hourly_rate_cents: int | None = Field(
        description="The member's rate on this project; null where the caller may not see rates."
    )
    version: int
    created_at: datetime
    updated_at: datetime
