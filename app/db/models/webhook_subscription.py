from sqlalchemy import Column, ForeignKey, String, Table, Uuid

from app.db.base import Base

# What each webhook subscribes to, as LIKE patterns over event types (`time/_entry.%`):
# the outbox statement matches events against them in SQL on either database.
webhook_subscriptions = Table(
    "webhook_subscriptions",
    Base.metadata,
    Column("webhook_id", Uuid, ForeignKey("webhooks.id", ondelete="CASCADE"), primary_key=True),
    Column("pattern", String(140), primary_key=True),
)
