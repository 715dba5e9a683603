"""Webhooks of a workspace and their deliveries: admins and the owner only."""

import uuid
from typing import Annotated

from fastapi import Depends, Query, Response

from app.api.deps import SessionDep, SettingsDep, WorkspaceAdmin, workspace_router
from app.api.etag import editable, etag_of, respond
from app.api.filters import PageParamsDep
from app.api.problems import responses
from app.db.models import Webhook, WebhookDelivery
from app.enums import DeliveryStatus
from app.pagination import SortKey
from app.repositories.webhooks import WebhookDeliveryRepository, WebhookRepository
from app.schemas.common import Page, page_of
from app.schemas.webhooks import (
    DeliveryRead,
    WebhookCreate,
    WebhookRead,
    WebhookUpdate,
    WebhookWithSecret,
)
from app.services.webhooks import WebhookService

router = workspace_router("webhooks", tag="webhooks")
OLDEST_FIRST = SortKey(Webhook.created_at, Webhook.id)
NEWEST_FIRST = SortKey(WebhookDelivery.created_at, WebhookDelivery.id, descending=True)


async def admin_webhooks(caller: WorkspaceAdmin, session: SessionDep) -> WebhookRepository:
    return WebhookRepository(session, caller.current_workspace().id)


async def webhook_service(
    caller: WorkspaceAdmin, session: SessionDep, settings: SettingsDep
) -> WebhookService:
    return WebhookService(session, caller, settings)


Webhooks = Annotated[WebhookRepository, Depends(admin_webhooks)]
Writes = Annotated[WebhookService, Depends(webhook_service)]


async def found_webhook(webhook_id: uuid.UUID, webhooks: Webhooks) -> Webhook:
    return await webhooks.get(webhook_id)


FoundWebhook = Annotated[Webhook, Depends(found_webhook)]
EditedWebhook = Annotated[Webhook, Depends(editable(found_webhook))]


async def webhook_deliveries(
    webhook: FoundWebhook, session: SessionDep
) -> WebhookDeliveryRepository:
    return WebhookDeliveryRepository(session, webhook.workspace_id, webhook.id)


Deliveries = Annotated[WebhookDeliveryRepository, Depends(webhook_deliveries)]


def _with_secret(response: Response, webhook: Webhook, secret: str) -> WebhookWithSecret:
    response.headers["ETag"] = etag_of(webhook)
    response.headers["Cache-Control"] = "no-store"
    return WebhookWithSecret(**WebhookRead.model_validate(webhook).model_dump(), secret=secret)


@router.get(
    "",
    summary="List webhooks",
    description="Admins only. Oldest first; never their secrets.",
    responses=responses(403, 422),
)
async def list_webhooks(webhooks: Webhooks, page: PageParamsDep) -> Page[WebhookRead]:
    return page_of(WebhookRead, await webhooks.list(page, OLDEST_FIRST))


@router.post(
    "",
    status_code=201,
    summary="Create a webhook",
    description="Admins only. The answer carries the signing secret, once. The webhook "
    "delivers the events of its `event_types` that its creator may read, signed as the "
    "Standard Webhooks specification says. A URL whose host resolves to a loopback, private, "
    "link-local (cloud metadata), multicast or reserved address is refused with 422.",
    responses=responses(403, 422),
)
async def create_webhook(
    body: WebhookCreate, writes: Writes, response: Response
) -> WebhookWithSecret:
    webhook, secret = await writes.create(body.model_dump())
    return _with_secret(response, webhook, secret)


@router.get(
    "/{webhook_id}",
    summary="Get a webhook",
    description="Admins only. Without its secret.",
    responses=responses(403, 422),
)
async def get_webhook(webhook: FoundWebhook, response: Response) -> WebhookRead:
    return respond(response, WebhookRead, webhook)


@router.patch(
    "/{webhook_id}",
    summary="Update, disable or enable a webhook",
    description="Admins only. Absent fields stay as they are. With `If-Match`, the change "
    "happens only if nobody changed the webhook since that read (412 otherwise).",
    responses=responses(403, 412, 422),
)
async def update_webhook(
    body: WebhookUpdate, webhook: EditedWebhook, writes: Writes, response: Response
) -> WebhookRead:
    return respond(response, WebhookRead, await writes.update(webhook, body.model_dump()))


@router.delete(
    "/{webhook_id}",
    status_code=204,
    summary="Delete a webhook",
    description="Admins only. Its deliveries, sent or not, go with it.",
    responses=responses(403, 412, 422),
)
async def delete_webhook(webhook: EditedWebhook, writes: Writes) -> None:
    await writes.delete(webhook)


@router.post(
    "/{webhook_id}/rotate-secret",
    summary="Rotate a webhook's signing secret",
    description="Admins only. Answers the new secret, once; every attempt from now on, "
    "retries included, is signed with it.",
    responses=responses(403, 412, 422),
)
async def rotate_webhook_secret(
    webhook: EditedWebhook, writes: Writes, response: Response
) -> WebhookWithSecret:
    webhook, secret = await writes.rotate_secret(webhook)
    return _with_secret(response, webhook, secret)


@router.post(
    "/{webhook_id}/test",
    status_code=202,
    summary="Send a test delivery (a ping)",
    description="Admins only. Queues a `webhook.ping`, an event-shaped message about the "
    "webhook, sent and retried like any event. 409 while the webhook is disabled.",
    responses=responses(403, 409, 422),
)
async def ping_webhook(webhook: FoundWebhook, writes: Writes) -> DeliveryRead:
    subject = WebhookRead.model_validate(webhook).model_dump(mode="json")
    return DeliveryRead.model_validate(await writes.ping(webhook, subject))


@router.get(
    "/{webhook_id}/deliveries",
    summary="List a webhook's deliveries",
    description="Admins only. Newest first: each message, its status, attempts, the last "
    "answer and when it is tried next.",
    responses=responses(403, 422),
)
async def list_deliveries(
    deliveries: Deliveries,
    page: PageParamsDep,
    status: Annotated[
        DeliveryStatus | None, Query(description="Only deliveries with this status.")
    ] = None,
) -> Page[DeliveryRead]:
    statement = deliveries.select()
    if status is not None:
        statement = statement.where(WebhookDelivery.status == status)
    return page_of(DeliveryRead, await deliveries.list(page, NEWEST_FIRST, statement))


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/retry",
    status_code=202,
    summary="Send a delivery again",
    description="Admins only. The delivery is due at once, whatever its status; after its "
    "retries ran out, this is one more attempt. 409 while it is being sent or the webhook "
    "is disabled.",
    responses=responses(403, 409, 422),
)
async def retry_delivery(
    delivery_id: uuid.UUID, webhook: FoundWebhook, deliveries: Deliveries, writes: Writes
) -> DeliveryRead:
    delivery = await deliveries.get(delivery_id)
    return DeliveryRead.model_validate(await writes.retry(webhook, delivery))
