import uuid

from sqlalchemy import BigInteger, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base


class EventCounter(Base):
    """The last event sequence number a workspace gave out.

    A committing transaction counts up its workspace's row with one upsert and holds the
    row's lock until it commits, so numbers are handed out in commit order.
    """

    __tablename__ = "event_counters"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    last_sequence: Mapped[int] = mapped_column(BigInteger)
