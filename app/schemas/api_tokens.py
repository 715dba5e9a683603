import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from app.db.types import utcnow
from app.schemas.common import ReadSchema, Schema, UTCDatetime, examples


def _in_the_future(value: datetime) -> datetime:
    if value <= utcnow():
        raise ValueError("must be in the future")
    return value


_EXAMPLE = {
    "id": "5d3c1b2a-7e6f-4a09-b8c7-d6e5f4a3b2c1",
    "name": "CI",
    "prefix": "tsk_3Jd9",
    "last_used_at": None,
    "expires_at": "2027-01-01T00:00:00Z",
    "created_at": "2026-11-02T09:00:00Z",
}
TokenName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class ApiTokenCreate(Schema):
    """A new personal API token."""

    model_config = examples({"name": "CI", "expires_at": "2027-01-01T00:00:00Z"})

    name: TokenName = Field(description="What the token is for, to recognize it by.")
    expires_at: Annotated[UTCDatetime, AfterValidator(_in_the_future)] | None = Field(
        default=None, description="When it stops working; null or absent: never."
    )


class ApiTokenRead(ReadSchema):
    """A personal API token, without its secret."""

    model_config = examples(_EXAMPLE)

    id: uuid.UUID
    name: str = Field(description="What the token is for.")
    prefix: str = Field(description="The token's first characters, to recognize it by.")
    last_used_at: datetime | None = Field(description="When it was last used; null if never.")
    expires_at: datetime | None = Field(description="When it stops working; null: never.")
    created_at: datetime


class ApiTokenCreated(ApiTokenRead):
    """A token just created, with its secret."""

    model_config = examples({**_EXAMPLE, "token": "tsk_3Jd9Xq7LmP2vR8sT4wY6zA1bC5dE"})

    token: str = Field(description="The secret; shown only in this response.")
