import uuid
from datetime import datetime
from typing import Annotated

from pydantic import MISSING, StringConstraints

from app.schemas.common import ReadSchema, Schema

TagName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class TagCreate(Schema):
    name: TagName


class TagUpdate(Schema):
    name: TagName | MISSING = MISSING


class TagRead(ReadSchema):
    id: uuid.UUID
    workspace_id: uuid.UUID
    name: str
    version: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
