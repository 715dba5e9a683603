import uuid
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo, available_timezones

from pydantic import MISSING, AfterValidator, EmailStr, Field, StringConstraints

from app.enums import WeekStart
from app.schemas.common import Name, ReadSchema, Schema

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
    email: Email
    password: Password
    full_name: Name


class UserUpdate(Schema):
    full_name: Name | MISSING = MISSING
    timezone: Timezone | MISSING = MISSING
    week_start: WeekStart | MISSING = MISSING


class PasswordChange(Schema):
    current_password: Annotated[
        str, StringConstraints(strip_whitespace=False), Field(max_length=256)
    ]
    new_password: Password


class UserRead(ReadSchema):
    id: uuid.UUID
    email: str
    full_name: str
    is_active: bool
    timezone: str
    week_start: WeekStart
    version: int
    created_at: datetime
    updated_at: datetime
