import uuid
from datetime import datetime

from pydantic import MISSING, AliasPath, Field

from app.enums import Role
from app.schemas.common import HourlyRateCents, RatesHidden, Schema


class MemberUpdate(Schema):
    role: Role | MISSING = MISSING
    hourly_rate_cents: HourlyRateCents | MISSING | None = MISSING


class MemberRead(RatesHidden):
    id: uuid.UUID = Field(description="The membership's id; paths name members by `user_id`.")
    workspace_id: uuid.UUID
    user_id: uuid.UUID
    email: str = Field(validation_alias=AliasPath("user", "email"))
    full_name: str = Field(validation_alias=AliasPath("user", "full_name"))
    role: Role
    hourly_rate_cents: int | None = Field(description="Null where the caller may not see rates.")
    version: int
    created_at: datetime
    updated_at: datetime
