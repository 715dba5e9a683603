import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from app.enums import ImportFormat, ImportStatus
from app.schemas.common import ReadSchema, examples


class ImportRowError(BaseModel):
    """A row that was refused."""

    file: str | None = Field(
        default=None,
        description="The file of an archive the refused record is in; null for a CSV file.",
    )
    line: int = Field(
        description="The CSV line the refused row starts on, or the record's number (from 1) "
        "in `file`; 0: the whole file."
    )
    reason: str = Field(description="Why it was refused.")


class ImportRunRead(ReadSchema):
    """An upload and what became of its rows."""

    model_config = examples(
        {
            "id": "0a2c4e6f-8b1d-4c3a-9c5e-7b9d1f3a5c7e",
            "workspace_id": "4f0c2a7e-8d1b-4c3e-9a55-0d2b6f1e7c10",
            "user_id": "9b2e4d61-3c7a-4f08-8e19-5a6d2c3b4e70",
            "format": "toggl_csv",
            "filename": "toggl_detailed.csv",
            "status": "succeeded",
            "dry_run": False,
            "options": {
                "timezone": "Europe/Berlin",
                "date_format": "mdy",
                "create_missing_members": False,
            },
            "rows_count": 120,
            "created_count": 117,
            "duplicates_count": 2,
            "failed_count": 1,
            "errors": [{"line": 48, "reason": "end is before start"}],
            "last_line": 121,
            "started_at": "2026-11-03T08:00:00Z",
            "finished_at": "2026-11-03T08:00:02Z",
            "created_at": "2026-11-03T08:00:00Z",
        }
    )

    id: uuid.UUID
    workspace_id: uuid.UUID
    user_id: uuid.UUID | None = Field(description="Who uploaded the file.")
    format: ImportFormat = Field(description="Whose export the file is.")
    filename: str = Field(description="The uploaded file's name.")
    status: ImportStatus = Field(
        description="Where the run is: `queued` for a runner, `running`, `interrupted` (to "
        "be resumed), `succeeded` or `failed` (the file could not be read)."
    )
    dry_run: bool = Field(description="True when nothing was written.")
    options: dict[str, Any] = Field(description="The options the file was read with.")
    rows_count: int = Field(description="Rows done: read in the batches committed so far.")
    created_count: int = Field(description="Entries created (or that would be, in a dry run).")
    duplicates_count: int = Field(description="Rows skipped as imported before.")
    failed_count: int = Field(description="Rows refused.")
    errors: list[ImportRowError] = Field(description="The refused rows (the first 1,000).")
    last_line: int = Field(
        description="The file's last line whose batch is committed; a stopped run resumes "
        "after it (0: none yet)."
    )
    started_at: datetime | None = Field(description="When reading began; null before.")
    finished_at: datetime | None = Field(description="When it ended; null before.")
    created_at: datetime
