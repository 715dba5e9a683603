import uuid
from datetime import datetime

from pydantic import AliasPath, Field

from app.enums import InvitationStatus, Role
from app.schemas.common import HourlyRateCents, RatesHidden, ReadSchema, Schema, examples
from app.schemas.users import Email

_INVITATION_ID = "5c1e3a7b-2d4f-4e6a-8b9c-0d1e2f3a4b5c"
_WORKSPACE_ID = "4f0c2a7e-8d1b-4c3e-9a55-0d2b6f1e7c10"


class InvitationCreate(Schema):
    """An email to invite, with the role and rate its holder gets on accepting."""

    model_config = examples({"email": "grace@example.com", "role": "member"})

    email: Email = Field(description="Whoever signs in with this email may accept.")
    role: Role = Field(Role.MEMBER, description="The role on accepting; never `owner`.")
    hourly_rate_cents: HourlyRateCents | None = Field(
        default=None, description="Their rate in cents per hour; null: the workspace's default."
    )


class InvitationRead(RatesHidden):
    """An invitation as its workspace sees it: nothing about any account."""

    model_config = examples(
        {
            "id": _INVITATION_ID,
            "workspace_id": _WORKSPACE_ID,
            "email": "grace@example.com",
            "role": "member",
            "hourly_rate_cents": None,
            "status": "pending",
            "invited_by_user_id": "9b2e4d61-3c7a-4f08-8e19-5a6d2c3b4e70",
            "version": 1,
            "created_at": "2026-11-02T09:00:00Z",
        }
    )

    id: uuid.UUID
    workspace_id: uuid.UUID
    email: str = Field(description="The email invited, as the inviter gave it.")
    role: Role = Field(description="The role on accepting: `admin` or `member`.")
    hourly_rate_cents: int | None = Field(description="Null where the caller may not see rates.")
    status: InvitationStatus = Field(description="Pending until accepted, declined or revoked.")
    invited_by_user_id: uuid.UUID | None = Field(
        description="Who invited; null once their account is gone."
    )
    version: int
    created_at: datetime


class ReceivedInvitationRead(ReadSchema):
    """An invitation as its invitee sees it."""

    model_config = examples(
        {
            "id": _INVITATION_ID,
            "workspace_id": _WORKSPACE_ID,
            "workspace_name": "Acme Studio",
            "role": "member",
            "created_at": "2026-11-02T09:00:00Z",
        }
    )

    id: uuid.UUID
    workspace_id: uuid.UUID
    workspace_name: str = Field(
        validation_alias=AliasPath("workspace", "name"), description="The workspace's name."
    )
    role: Role = Field(description="The role on accepting: `admin` or `member`.")
    created_at: datetime
