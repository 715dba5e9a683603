import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from app.enums import ImportFormat, ImportStatus
from app.schemas.common import ReadSchema


class ImportRowError(BaseModel):
    line: int = Field(description="The file's line the refused row starts on.")
    reason: str


class ImportRunRead(ReadSchema):
    id: uuid.UUID
    workspace_id: uuid.UUID
    user_id: uuid.UUID | None = Field(description="Who uploaded the file.")
    format: ImportFormat
    filename: str
    status: ImportStatus
    dry_run: bool
    options: dict[str, Any]
    rows_count: int
    created_count: int
    duplicates_count: int
    failed_count: int
    errors: list[ImportRowError] = Field(description="The refused rows (the first 1,000).")
    started_at: datetime | None
    finished_at: datetime | None
    created_at: datetime
