import uuid
from datetime import datetime

from pydantic import AliasPath, Field

from app.enums import InvitationStatus, Role
from app.schemas.common import HourlyRateCents, RatesHidden, ReadSchema, Schema
from app.schemas.users import Email


class InvitationCreate(Schema):
    email: Email = Field(description="Whoever signs in with this email may accept.")
    role: Role = Field(Role.MEMBER, description="The role on accepting; never `owner`.")
    hourly_rate_cents: HourlyRateCents | None = None


class InvitationRead(RatesHidden):
    """An invitation as its workspace sees it: nothing about any account."""

    id: uuid.UUID
    workspace_id: uuid.UUID
    email: str
    role: Role
    hourly_rate_cents: int | None = Field(description="Null where the caller may not see rates.")
    status: InvitationStatus
    invited_by_user_id: uuid.UUID | None
    version: int
    created_at: datetime


class ReceivedInvitationRead(ReadSchema):
    """An invitation as its invitee sees it."""

    id: uuid.UUID
    workspace_id: uuid.UUID
    workspace_name: str = Field(validation_alias=AliasPath("workspace", "name"))
    role: Role
    created_at: datetime
