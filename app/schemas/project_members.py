import uuid
from datetime import datetime

from pydantic import MISSING, Field

from app.schemas.common import HourlyRateCents, RatesHidden, Schema


class ProjectMemberCreate(Schema):
    user_id: uuid.UUID
    hourly_rate_cents: HourlyRateCents | None = None


class ProjectMemberUpdate(Schema):
    hourly_rate_cents: HourlyRateCents | MISSING | None = MISSING


class ProjectMemberRead(RatesHidden):
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
