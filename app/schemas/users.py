import uuid
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo, available_timezones

from pydantic import MISSING, AfterValidator, EmailStr, Field, StringConstraints

from app.enums import WeekStart
from app.schemas.common import Name, ReadSchema, Schema, examples

_TIMEZONES = frozenset(available_timezones())


def _lower(value: str) -> str:
    return value.lower()


def _known_timezone(value: str) -> str:
    if value not in _TIMEZONES:
        raise ValueError("unknown IANA timezone")
    ZoneInfo(value)
    return value


Email = Annotated[EmailStr, AfterValidator(_lower)]
# Taken exactly as typed, spaces included, as sign-in takes it.
Password = Annotated[
    str, StringConstraints(strip_whitespace=False), Field(min_length=8, max_length=256)
]
Timezone = Annotated[str, Field(max_length=64), AfterValidator(_known_timezone)]


class UserCreate(Schema):
    """A new account."""

    model_config = examples(
        {"email": "ada@example.com", "password": "a long password", "full_name": "Ada Lovelace"}
    )

    email: Email = Field(description="Signs in with it; stored in lower case, unique.")
    password: Password = Field(description="8 to 256 characters.")
    full_name: Name = Field(description="The name others see.")


class UserUpdate(Schema):
    """Changes to the caller's account; absent fields stay as they are."""

    model_config = examples({"timezone": "Europe/Berlin", "week_start": "monday"})

    full_name: Name | MISSING = Field(MISSING, description="The name others see.")
    timezone: Timezone | MISSING = Field(
        MISSING, description="IANA timezone of reports' days and exports' times."
    )
    week_start: WeekStart | MISSING = Field(MISSING, description="The first day of reports' weeks.")


class PasswordChange(Schema):
    """The current password, to prove it is the account's owner, and the new one."""

    model_config = examples(
        {"current_password": "a long password", "new_password": "a longer password"}
    )

    current_password: Annotated[
        str, StringConstraints(strip_whitespace=False), Field(max_length=256)
    ] = Field(description="The password in use now.")
    new_password: Password = Field(description="8 to 256 characters.")


class UserRead(ReadSchema):
    """An account."""

    model_config = examples(
        {
            "id": "9b2e4d61-3c7a-4f08-8e19-5a6d2c3b4e70",
            "email": "ada@example.com",
            "full_name": "Ada Lovelace",
            "is_active": True,
            "timezone": "Europe/London",
            "week_start": "monday",
            "version": 1,
            "created_at": "2026-11-02T09:00:00Z",
            "updated_at": "2026-11-02T09:00:00Z",
        }
    )

    id: uuid.UUID
    email: str = Field(description="Signs in with it; lower case.")
    full_name: str = Field(description="The name others see.")
    is_active: bool = Field(description="False once the account is deactivated.")
    timezone: str = Field(description="IANA timezone of reports' days and exports' times.")
    week_start: WeekStart = Field(description="The first day of reports' weeks.")
    version: int
    created_at: datetime
    updated_at: datetime
