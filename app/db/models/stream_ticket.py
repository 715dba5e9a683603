import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UUIDPrimaryKeyMixin
from app.db.types import UTCDateTime, utcnow


class StreamTicket(UUIDPrimaryKeyMixin, Base):
    """A short-lived, single-use pass to a workspace's event stream, for browsers, whose
    `EventSource` cannot send an Authorization header. Only its SHA-256 is stored.

    It stands for the credential it was issued with (the user's token generation, and the
    API token if one was used): the stream it opens lasts while that credential does.
    """

    __tablename__ = "stream_tickets"
    __table_args__ = (Index(None, "expires_at"),)

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    token_generation: Mapped[int] = mapped_column(Integer)
    api_token_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("api_tokens.id", ondelete="CASCADE"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
