"""Webhooks, their deliveries, and the queue the dispatcher takes deliveries from."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, insert, literal, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import webhook_outbox
from app.db.models import Webhook, WebhookDelivery, webhook_subscriptions
from app.db.models.webhook import subscription_patterns
from app.db.types import UTCDateTime, utcnow
from app.enums import DeliveryStatus
from app.repositories.base import Repository, ScopedRepository

# Rows a claim whose sender died are sent again once their lease runs out.
_CLAIMABLE = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)


class WebhookRepository(ScopedRepository[Webhook]):
    model = Webhook
    not_found_detail = "Webhook not found."

    async def subscribe(self, webhook: Webhook) -> None:
        """Match the events the outbox queues for `webhook` to its `event_types`."""
        await self.session.execute(
            delete(webhook_subscriptions).where(webhook_subscriptions.c.webhook_id == webhook.id)
        )
        await self.session.execute(
            insert(webhook_subscriptions),
            [
                {"webhook_id": webhook.id, "pattern": pattern}
                for pattern in subscription_patterns(webhook.event_types)
            ],
        )


class WebhookDeliveryRepository(ScopedRepository[WebhookDelivery]):
    """The deliveries of one webhook."""

    model = WebhookDelivery
    not_found_detail = "Delivery not found."

    def __init__(self, session: AsyncSession, workspace_id: uuid.UUID, webhook_id: uuid.UUID):
        super().__init__(session, workspace_id)
        self.webhook_id = webhook_id

    def scope(self, statement: Select[tuple[WebhookDelivery]]) -> Select[tuple[WebhookDelivery]]:
        return super().scope(statement).where(WebhookDelivery.webhook_id == self.webhook_id)

    async def queue(self, delivery_id: uuid.UUID, event_type: str, payload: Any) -> WebhookDelivery:
        """A message of its own (a ping), due at once."""
        delivery = await self.create(
            webhook_id=self.webhook_id, id=delivery_id, event_type=event_type, payload=payload
        )
        webhook_outbox.wake_after_commit(self.session)
        return delivery

    async def send_again(self, delivery: WebhookDelivery) -> WebhookDelivery:
        """Make `delivery` due at once, whatever became of it."""
        updated = await self.update(
            delivery, {"status": DeliveryStatus.PENDING, "next_attempt_at": utcnow()}
        )
        webhook_outbox.wake_after_commit(self.session)
        return updated


@dataclass(frozen=True)
class Claimed:
    """A delivery taken for one attempt, with what sending it takes."""

    webhook_id: uuid.UUID
    id: uuid.UUID
    workspace_id: uuid.UUID
    event_type: str
    payload: Any
    # Attempts so far, this one included: the result is recorded only while it still is.
    attempts: int
    url: str
    secret: str
    creator_id: uuid.UUID | None
    # The webhook's, when claimed: a success clears it only if it was set.
    failing_since: datetime | None


@dataclass(frozen=True)
class Attempt:
    """How an attempt went, as the delivery records it."""

    status: DeliveryStatus
    next_attempt_at: datetime | None
    at: datetime
    status_code: int | None = None
    duration_ms: int | None = None
    error: str | None = None
    response: str | None = None


class DeliveryQueue(Repository[WebhookDelivery]):
    """Every workspace's deliveries, as the dispatcher takes and settles them."""

    model = WebhookDelivery

    async def claim(self, now: datetime, lease_until: datetime, limit: int) -> list[Claimed]:
        """Take up to `limit` due deliveries of enabled webhooks, each for one attempt, until
        `lease_until`. On PostgreSQL, rows another dispatcher holds are skipped, not waited
        for, so two never take the same attempt; SQLite has one writer at a time."""
        due = (
            select(WebhookDelivery.webhook_id, WebhookDelivery.id)
            .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .where(
                WebhookDelivery.status.in_(_CLAIMABLE),
                WebhookDelivery.next_attempt_at <= now,
                Webhook.enabled,
            )
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(limit)
            .with_for_update(of=WebhookDelivery, skip_locked=True)
        )
        taken = await self.session.execute(
            update(WebhookDelivery)
            .where(tuple_(WebhookDelivery.webhook_id, WebhookDelivery.id).in_(due))
            .values(
                status=DeliveryStatus.SENDING,
                attempts=WebhookDelivery.attempts + 1,
                next_attempt_at=lease_until,
            )
            .returning(WebhookDelivery.webhook_id, WebhookDelivery.id)
            .execution_options(synchronize_session=False)
        )
        keys = [tuple(row) for row in taken]
        if not keys:
            return []
        rows = await self.session.execute(
            select(
                WebhookDelivery.webhook_id,
                WebhookDelivery.id,
                WebhookDelivery.workspace_id,
                WebhookDelivery.event_type,
                WebhookDelivery.payload,
                WebhookDelivery.attempts,
                Webhook.url,
                Webhook.secret,
                Webhook.created_by_user_id,
                Webhook.failing_since,
            )
            .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .where(tuple_(WebhookDelivery.webhook_id, WebhookDelivery.id).in_(keys))
        )
        return [Claimed(*row) for row in rows]

    async def settle(self, claimed: Claimed, attempt: Attempt) -> bool:
        """Record `attempt`, unless the delivery was taken again since (its lease ran out);
        whether it was recorded."""
        result = await self.session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.webhook_id == claimed.webhook_id,
                WebhookDelivery.id == claimed.id,
                WebhookDelivery.status == DeliveryStatus.SENDING,
                WebhookDelivery.attempts == claimed.attempts,
            )
            .values(
                status=attempt.status,
                next_attempt_at=attempt.next_attempt_at,
                last_attempt_at=attempt.at,
                last_status_code=attempt.status_code,
                last_duration_ms=attempt.duration_ms,
                last_error=attempt.error,
                last_response=attempt.response,
            )
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def prune(self, before: datetime) -> int:
        """Remove the settled deliveries made before `before`, as events past retention are;
        owed ones stay, to be sent (or skipped once their event is gone)."""
        result = await self.session.execute(
            delete(WebhookDelivery).where(
                WebhookDelivery.created_at < before, WebhookDelivery.status.not_in(_CLAIMABLE)
            )
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def endpoint_answered(self, webhook_id: uuid.UUID) -> None:
        await self.session.execute(
            update(Webhook)
            .where(Webhook.id == webhook_id, Webhook.failing_since.is_not(None))
            .values(failing_since=None)
            .execution_options(synchronize_session=False)
        )

    async def endpoint_failed(self, webhook_id: uuid.UUID, now: datetime) -> datetime:
        """Since when the webhook's endpoint has failed every attempt, `now` at the first."""
        result = await self.session.execute(
            update(Webhook)
            .where(Webhook.id == webhook_id)
            .values(failing_since=func.coalesce(Webhook.failing_since, literal(now, UTCDateTime)))
            .returning(Webhook.failing_since)
            .execution_options(synchronize_session=False)
        )
        return result.scalar_one()
