import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, InWorkspaceMixin, TimestampMixin, UUIDPrimaryKeyMixin
from app.db.types import UTCDateTime, str_enum
from app.enums import ImportFormat, ImportStatus


class ImportRun(UUIDPrimaryKeyMixin, TimestampMixin, InWorkspaceMixin, Base):
    """One run of the loader over one file, with its counts and the rows it refused.

    A run commits a batch of rows at a time together with its progress, so the counts and
    `last_line` always describe what is stored, and a stopped run resumes after that line.
    Whoever runs it (a server worker or the command) holds it for one claim (`attempts`)
    until `lease_expires_at`, renewed with each batch; a run whose lease ran out is taken
    as interrupted.
    """

    __tablename__ = "import_runs"
    __table_args__ = (
        Index(None, "workspace_id", "created_at"),
        Index(None, "status", "lease_expires_at"),
    )

    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    format: Mapped[ImportFormat] = mapped_column(str_enum(ImportFormat))
    filename: Mapped[str] = mapped_column(String(255))
    status: Mapped[ImportStatus] = mapped_column(
        str_enum(ImportStatus), default=ImportStatus.QUEUED
    )
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    # Parameters of the run: timezone of naive times, whether to create placeholder members.
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    rows_count: Mapped[int] = mapped_column(Integer, default=0)
    created_count: Mapped[int] = mapped_column(Integer, default=0)
    duplicates_count: Mapped[int] = mapped_column(Integer, default=0)
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    # [{"line": 12, "reason": "..."}]
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # The file's last line whose batch is committed (0: none yet).
    last_line: Mapped[int] = mapped_column(Integer, default=0)
    # The file's SHA-256: a run resumes only over the same content.
    file_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    # The size of the upload kept in `import_file_chunks`; null when the file stays with
    # the command that reads it (only that command can resume the run).
    file_bytes: Mapped[int | None] = mapped_column(BigInteger, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
