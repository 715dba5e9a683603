"""Webhooks: admins and the owner add, change, disable and remove them; each delivers the
events its creator may read (see `app.dispatcher`)."""

import base64
import secrets
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db import events
from app.db.models import Webhook, WebhookDelivery
from app.db.types import utcnow
from app.enums import DeliveryStatus
from app.errors import Conflict
from app.repositories.webhooks import WebhookDeliveryRepository, WebhookRepository
from app.services import policies, webhook_targets
from app.services.caller import Caller

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
PING = "webhook.ping"


def new_secret() -> str:
    """A Standard Webhooks signing secret: `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


class WebhookService:
    def __init__(self, session: AsyncSession, caller: Caller, settings: Settings) -> None:
        self.session = session
        self.caller = caller
        self.settings = settings
        self.workspace_id = caller.current_workspace().id
        self.webhooks = WebhookRepository(session, self.workspace_id)

    async def create(self, values: dict[str, Any]) -> tuple[Webhook, str]:
        """The new webhook and its secret, which is shown this once."""
        policies.require_admin(self.caller)
        await webhook_targets.resolve(values["url"], self.settings)
        secret = new_secret()
        webhook = await self.webhooks.create(
            **values, secret=secret, created_by_user_id=self.caller.user_id
        )
        await self.webhooks.subscribe(webhook)
        return webhook, secret

    async def update(self, webhook: Webhook, changes: dict[str, Any]) -> Webhook:
        policies.require_admin(self.caller)
        if "url" in changes:
            await webhook_targets.resolve(changes["url"], self.settings)
        if changes.get("enabled") is True and not webhook.enabled:
            # Enabled again: the endpoint gets a fresh three days before it is disabled.
            changes |= {"disabled_reason": None, "failing_since": None}
        elif changes.get("enabled") is False and webhook.enabled:
            changes["disabled_reason"] = "Disabled by an admin."
        updated = await self.webhooks.update(webhook, changes)
        if "event_types" in changes:
            await self.webhooks.subscribe(updated)
        return updated

    async def delete(self, webhook: Webhook) -> None:
        policies.require_admin(self.caller)
        await self.webhooks.delete(webhook)

    async def rotate_secret(self, webhook: Webhook) -> tuple[Webhook, str]:
        """A new secret, shown this once; deliveries are signed with it from now on."""
        policies.require_admin(self.caller)
        secret = new_secret()
        return await self.webhooks.update(webhook, {"secret": secret}), secret

    async def ping(self, webhook: Webhook, subject: dict[str, Any]) -> WebhookDelivery:
        """Queue a `webhook.ping`: an event-shaped message about the webhook (`subject`, as
        a read shows it), through the outbox like any event."""
        policies.require_admin(self.caller)
        self._require_enabled(webhook)
        unit = events.context(self.session)
        message_id = uuid.uuid4()
        payload = events.jsonable(
            {
                "id": message_id,
                "sequence": 0,
                "type": PING,
                "workspace_id": self.workspace_id,
                "occurred_at": utcnow(),
                "actor_id": self.caller.user_id,
                "origin": unit.origin,
                "request_id": unit.request_id,
                "subject": {"type": "webhook", "id": webhook.id},
                "data": {"object": subject},
            }
        )
        return await self._deliveries(webhook).queue(message_id, PING, payload)

    async def retry(self, webhook: Webhook, delivery: WebhookDelivery) -> WebhookDelivery:
        """Send `delivery` again now (once more, after the retries ran out)."""
        policies.require_admin(self.caller)
        self._require_enabled(webhook)
        if delivery.status is DeliveryStatus.SENDING:
            raise Conflict("The delivery is being sent.")
        return await self._deliveries(webhook).send_again(delivery)

    def _deliveries(self, webhook: Webhook) -> WebhookDeliveryRepository:
        return WebhookDeliveryRepository(self.session, self.workspace_id, webhook.id)

    @staticmethod
    def _require_enabled(webhook: Webhook) -> None:
        if not webhook.enabled:
            raise Conflict("The webhook is disabled; enable it first.")
