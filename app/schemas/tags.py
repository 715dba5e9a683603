import uuid
from datetime import datetime
from typing import Annotated

from pydantic import MISSING, Field, StringConstraints

from app.schemas.common import ReadSchema, Schema, examples

TagName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class TagCreate(Schema):
    """A new tag."""

    model_config = examples({"name": "meeting"})

    name: TagName = Field(description="The tag's name, unique among the workspace's live tags.")


class TagUpdate(Schema):
    """A tag's new name."""

    model_config = examples({"name": "meetings"})

    name: TagName | MISSING = Field(MISSING, description="The tag's new name.")


class TagRead(ReadSchema):
    """A tag of the workspace."""

    model_config = examples(
        {
            "id": "6c8d0e2f-4a5b-4c7d-9e1f-2a3b4c5d6e7f",
            "workspace_id": "4f0c2a7e-8d1b-4c3e-9a55-0d2b6f1e7c10",
            "name": "meeting",
            "version": 1,
            "created_at": "2026-11-02T09:00:00Z",
            "updated_at": "2026-11-02T09:00:00Z",
            "deleted_at": None,
        }
    )

    id: uuid.UUID
    workspace_id: uuid.UUID
    name: str = Field(description="The tag's name.")
    version: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
