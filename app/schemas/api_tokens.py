import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from app.db.types import utcnow
from app.schemas.common import ReadSchema, Schema, UTCDatetime


def _in_the_future(value: datetime) -> datetime:
    if value <= utcnow():
        raise ValueError("must be in the future")
    return value


TokenName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class ApiTokenCreate(Schema):
    name: TokenName
    expires_at: Annotated[UTCDatetime, AfterValidator(_in_the_future)] | None = None


class ApiTokenRead(ReadSchema):
    id: uuid.UUID
    name: str
    prefix: str = Field(description="The token's first characters, to recognize it by.")
    last_used_at: datetime | None
    expires_at: datetime | None
    created_at: datetime


class ApiTokenCreated(ApiTokenRead):
    token: str = Field(description="The secret; shown only in this response.")
