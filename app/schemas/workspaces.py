import uuid
from datetime import datetime
from typing import Annotated

from pydantic import MISSING, Field, StringConstraints

from app.enums import Role
from app.schemas.common import HourlyRateCents, Name, RatesHidden, Schema

Currency = Annotated[
    str, StringConstraints(pattern=r"^[A-Z]{3}$"), Field(description="ISO 4217 code.")
]


class WorkspaceCreate(Schema):
    name: Name
    currency: Currency = "USD"
    default_hourly_rate_cents: HourlyRateCents = 0
    prevent_overlaps: bool = False
    members_can_see_rates: bool = False


class WorkspaceUpdate(Schema):
    name: Name | MISSING = MISSING
    currency: Currency | MISSING = MISSING
    default_hourly_rate_cents: HourlyRateCents | MISSING = MISSING
    prevent_overlaps: bool | MISSING = MISSING
    members_can_see_rates: bool | MISSING = MISSING


class OwnershipTransfer(Schema):
    user_id: uuid.UUID = Field(description="The member who becomes the owner.")


class WorkspaceRead(RatesHidden):
    id: uuid.UUID
    name: str
    owner_user_id: uuid.UUID
    currency: str
    default_hourly_rate_cents: int | None = Field(
        description="Null where the caller may not see rates."
    )
    prevent_overlaps: bool
    members_can_see_rates: bool
    role: Role = Field(description="The caller's role in the workspace.")
    version: int
    created_at: datetime
    updated_at: datetime
