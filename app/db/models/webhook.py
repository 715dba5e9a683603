import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import (
    Base,
    EventSubject,
    InWorkspaceMixin,
    TimestampMixin,
    UUIDPrimaryKeyMixin,
    VersionedMixin,
)
from app.db.types import UTCDateTime

WEBHOOK_URL_MAX_LENGTH = 2048
# Not a backslash: how a backslash is written in SQL text differs between the databases.
LIKE_ESCAPE = "/"


class Webhook(UUIDPrimaryKeyMixin, TimestampMixin, VersionedMixin, InWorkspaceMixin, Base):
    """An endpoint that receives the workspace's events of the types it subscribes to,
    signed with its secret, as its creator may read them.

    `event_types` is what the API shows; `app.db.webhook_outbox` matches events against its
    copy as LIKE patterns in `webhook_subscriptions`, which the service keeps in step.
    """

    __tablename__ = "webhooks"
    # `failing_since` is the dispatcher's bookkeeping, no change of the webhook's own.
    __event_subject__ = EventSubject("webhook", hidden=frozenset({"secret", "failing_since"}))
    __table_args__ = (Index(None, "workspace_id"),)

    url: Mapped[str] = mapped_column(String(WEBHOOK_URL_MAX_LENGTH))
    event_types: Mapped[list[str]] = mapped_column(JSON)
    description: Mapped[str] = mapped_column(String(500), default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(500), default=None)
    # Whose reading rights the webhook's deliveries follow.
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    # `whsec_<base64>`: the HMAC key of the Standard Webhooks signature, kept to sign with.
    secret: Mapped[str] = mapped_column(String(100))
    # Since when every delivery attempt has failed; None while the endpoint answers.
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


def subscription_patterns(event_types: Iterable[str]) -> list[str]:
    """The LIKE patterns (escaped with `/`) that match the event types `event_types` names:
    `*` every type, `kind.*` a kind's every type, anything else itself."""
    patterns = set()
    for pattern in event_types:
        if pattern == "*":
            patterns.add("%")
        elif pattern.endswith(".*"):
            patterns.add(_escape(pattern.removesuffix("*")) + "%")
        else:
            patterns.add(_escape(pattern))
    return sorted(patterns)


def _escape(text: str) -> str:
    return text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", "/%").replace("_", "/_")
