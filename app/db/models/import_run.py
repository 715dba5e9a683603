import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, InWorkspaceMixin, TimestampMixin, UUIDPrimaryKeyMixin
from app.db.types import UTCDateTime, str_enum
from app.enums import ImportFormat, ImportStatus


class ImportRun(UUIDPrimaryKeyMixin, TimestampMixin, InWorkspaceMixin, Base):
    """One run of the loader over one file, with its counts and the rows it refused."""

    __tablename__ = "import_runs"
    __table_args__ = (Index(None, "workspace_id", "created_at"),)

    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    format: Mapped[ImportFormat] = mapped_column(str_enum(ImportFormat))
    filename: Mapped[str] = mapped_column(String(255))
    status: Mapped[ImportStatus] = mapped_column(
        str_enum(ImportStatus), default=ImportStatus.PENDING
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
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
