import uuid
from datetime import datetime

from pydantic import MISSING

from app.schemas.common import ArchivableUpdate, Name, ReadSchema, Schema


class ClientCreate(Schema):
    name: Name


class ClientUpdate(ArchivableUpdate):
    name: Name | MISSING = MISSING


class ClientRead(ReadSchema):
    id: uuid.UUID
    workspace_id: uuid.UUID
    name: str
    archived_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
