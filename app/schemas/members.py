import uuid
from datetime import datetime

from pydantic import MISSING, AliasPath, Field

from app.enums import Role
from app.schemas.common import HourlyRateCents, RatesHidden, Schema, examples


class MemberUpdate(Schema):
    """Changes to a member; absent fields stay as they are."""

    model_config = examples({"role": "admin"}, {"hourly_rate_cents": 8000})

    role: Role | MISSING = Field(MISSING, description="`admin` or `member`.")
    hourly_rate_cents: HourlyRateCents | MISSING | None = Field(
        MISSING, description="Their rate in cents per hour; null: the workspace's default."
    )


class MemberRead(RatesHidden):
    """A member of the workspace."""

    model_config = examples(
        {
            "id": "2d4f6a8c-0e1b-4a3c-9d5e-7f9a1b3c5d7e",
            "workspace_id": "4f0c2a7e-8d1b-4c3e-9a55-0d2b6f1e7c10",
            "user_id": "9b2e4d61-3c7a-4f08-8e19-5a6d2c3b4e70",
            "email": "grace@example.com",
            "full_name": "Grace Hopper",
            "role": "member",
            "hourly_rate_cents": None,
            "is_placeholder": False,
            "version": 1,
            "created_at": "2026-11-02T09:00:00Z",
            "updated_at": "2026-11-02T09:00:00Z",
        }
    )

    id: uuid.UUID = Field(description="The membership's id; paths name members by `user_id`.")
    workspace_id: uuid.UUID
    user_id: uuid.UUID
    email: str = Field(validation_alias=AliasPath("user", "email"), description="Their email.")
    full_name: str = Field(
        validation_alias=AliasPath("user", "full_name"), description="Their full name."
    )
    role: Role = Field(description="`owner`, `admin` or `member`.")
    hourly_rate_cents: int | None = Field(description="Null where the caller may not see rates.")
    is_placeholder: bool = Field(
        validation_alias=AliasPath("user", "is_placeholder"),
        description="An account made for imported or restored time that no one signs in "
        "with yet: the person takes it over by signing up with its email.",
    )
    version: int
    created_at: datetime
    updated_at: datetime
