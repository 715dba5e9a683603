import uuid
from datetime import datetime

from pydantic import MISSING, Field

from app.schemas.common import ArchivableUpdate, Name, ReadSchema, Schema, examples


class ClientCreate(Schema):
    """A new client."""

    model_config = examples({"name": "Acme Corp"})

    name: Name = Field(description="The client's name, unique among the workspace's live clients.")


class ClientUpdate(ArchivableUpdate):
    """Changes to a client; absent fields stay as they are."""

    model_config = examples({"name": "Acme Corporation"}, {"archived": True})

    name: Name | MISSING = Field(MISSING, description="The client's new name.")


class ClientRead(ReadSchema):
    """A client of the workspace."""

    model_config = examples(
        {
            "id": "c1a2b3c4-d5e6-4f70-8192-a3b4c5d6e7f8",
            "workspace_id": "4f0c2a7e-8d1b-4c3e-9a55-0d2b6f1e7c10",
            "name": "Acme Corp",
            "archived_at": None,
            "version": 1,
            "created_at": "2026-11-02T09:00:00Z",
            "updated_at": "2026-11-02T09:00:00Z",
            "deleted_at": None,
        }
    )

    id: uuid.UUID
    workspace_id: uuid.UUID
    name: str = Field(description="The client's name.")
    archived_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
