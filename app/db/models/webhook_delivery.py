import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base
from app.db.types import UTCDateTime, str_enum, utcnow
from app.enums import DeliveryStatus


class WebhookDelivery(Base):
    """One message owed to one webhook: an event, or a ping.

    Written in the transaction of its event (`app.db.webhook_outbox`), so a committed event
    is never without its deliveries. `id` is the message's id, the `webhook-id` header a
    receiver deduplicates by: the event's id, or a ping's own. The dispatcher claims due
    rows, marks them `sending` with `next_attempt_at` as the lease (a sender that dies
    leaves the row due again once it runs out), and records each attempt's outcome.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index(None, "status", "next_attempt_at"),
        Index(None, "webhook_id", "created_at"),
    )

    webhook_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhooks.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    # The webhook's workspace, for scoping reads. No foreign key of its own: the webhook's
    # ties the row to the workspace (its deletion reaches the row through the webhook), and
    # the outbox's insert, on the write path, makes one check fewer.
    workspace_id: Mapped[uuid.UUID]
    event_type: Mapped[str] = mapped_column(String(64))
    # A ping's body; an event's is rendered when sent, as its webhook may read it then.
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    status: Mapped[DeliveryStatus] = mapped_column(
        str_enum(DeliveryStatus), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    last_duration_ms: Mapped[int | None] = mapped_column(Integer, default=None)
    last_error: Mapped[str | None] = mapped_column(String(500), default=None)
    # The start of the endpoint's last answer, at most `RESPONSE_KEPT_BYTES`.
    last_response: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
