import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UUIDPrimaryKeyMixin
from app.db.types import UTCDateTime, str_enum, utcnow
from app.enums import EventOrigin

EVENT_TYPE_MAX_LENGTH = 64


class Event(UUIDPrimaryKeyMixin, Base):
    """One committed change in a workspace: what changed, who changed it, how, and the
    subject after the change (with the previous values of what an update changed).

    Written by `app.db.events` in the transaction that makes the change; `sequence` counts
    per workspace in commit order, so a reader that has seen N never later finds less.
    """

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("workspace_id", "sequence"),
        Index(None, "workspace_id", "subject_id"),
        Index(None, "occurred_at"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    sequence: Mapped[int] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(String(EVENT_TYPE_MAX_LENGTH))
    # No foreign key: the record outlives what it names.
    actor_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    origin: Mapped[EventOrigin] = mapped_column(str_enum(EventOrigin))
    request_id: Mapped[str | None] = mapped_column(String(128), default=None)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[uuid.UUID]
    # Whose time and which project the subject belongs to: what members' visibility reads.
    user_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    project_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    data: Mapped[dict[str, Any]] = mapped_column(JSON().with_variant(JSONB(), "postgresql"))
