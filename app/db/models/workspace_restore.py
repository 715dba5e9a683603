import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base
from app.db.types import UTCDateTime, utcnow


class WorkspaceRestore(Base):
    """A workspace made from a full export: which archive it came from, so that the same
    archive restored again finds this workspace instead of making a second copy."""

    __tablename__ = "workspace_restores"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    # The SHA-256 of the archive's manifest, which holds every file's checksum.
    archive_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    source_workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    restored_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
