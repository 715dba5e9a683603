"""Webhooks as admins set them up, their secrets, and their deliveries."""

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import MISSING, AfterValidator, Field, HttpUrl, StringConstraints

from app.db.models.webhook import WEBHOOK_URL_MAX_LENGTH
from app.enums import DeliveryStatus
from app.schemas.common import ReadSchema, Schema, examples
from app.schemas.events import EventTypePattern


def _http_url(value: str) -> str:
    HttpUrl(value)  # raises on anything but an absolute http(s) URL
    return value


WebhookUrl = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=WEBHOOK_URL_MAX_LENGTH),
    AfterValidator(_http_url),
    Field(
        description="Where deliveries are POSTed: https (http outside production), to a host "
        "that resolves only to public addresses.",
        examples=["https://example.com/hooks/timesheet"],
    ),
]
EventTypes = Annotated[
    list[EventTypePattern],
    Field(
        min_length=1,
        max_length=50,
        description="The event types delivered: exact (`client.created`), a kind's every "
        "type (`time_entry.*`) or every type (`*`), as the audit log's `type` filter.",
        examples=[["time_entry.*", "timer.started"]],
    ),
]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]

_EXAMPLE = {
    "id": "9b1f6c2e-4d3a-4e8b-a7c6-5d4e3f2a1b0c",
    "workspace_id": "4f0c2a8e-1b3d-4e5f-9a7b-6c8d0e2f4a6b",
    "url": "https://example.com/hooks/timesheet",
    "event_types": ["time_entry.*"],
    "description": "Payroll",
    "enabled": True,
    "disabled_reason": None,
    "created_by_user_id": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
    "version": 1,
    "created_at": "2026-11-02T09:00:00Z",
    "updated_at": "2026-11-02T09:00:00Z",
}


class WebhookCreate(Schema):
    """A new webhook."""

    model_config = examples(
        {"url": "https://example.com/hooks/timesheet", "event_types": ["time_entry.*"]}
    )

    url: WebhookUrl
    event_types: EventTypes
    description: Description = Field(default="", description="What the webhook is for.")
    enabled: bool = Field(default=True, description="Whether events are delivered.")


class WebhookUpdate(Schema):
    """Changes to a webhook; absent fields stay as they are."""

    model_config = examples({"enabled": True}, {"event_types": ["*"]})

    url: WebhookUrl | MISSING = MISSING
    event_types: EventTypes | MISSING = MISSING
    description: Description | MISSING = Field(MISSING, description="What the webhook is for.")
    enabled: bool | MISSING = Field(
        MISSING,
        description="`false` stops deliveries (pending ones wait); `true` resumes them and "
        "clears `disabled_reason`.",
    )


class WebhookRead(ReadSchema):
    """A webhook, without its secret."""

    model_config = examples(_EXAMPLE)

    id: uuid.UUID
    workspace_id: uuid.UUID
    url: str = Field(description="Where deliveries are POSTed.")
    event_types: list[str] = Field(description="The event types delivered, with wildcards.")
    description: str = Field(description="What the webhook is for.")
    enabled: bool = Field(description="Whether events are delivered.")
    disabled_reason: str | None = Field(
        description="Why the webhook was disabled, e.g. its endpoint answered 410 or failed "
        "for three days; null while enabled."
    )
    created_by_user_id: uuid.UUID | None = Field(
        description="Whose reading rights the deliveries follow: they carry only what this "
        "user may currently read."
    )
    version: int
    created_at: datetime
    updated_at: datetime


class WebhookWithSecret(WebhookRead):
    """A webhook with its signing secret, shown only in this response."""

    model_config = examples({**_EXAMPLE, "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})

    secret: str = Field(
        description="The Standard Webhooks signing secret (`whsec_<base64>`); shown only "
        "when the webhook is created and when the secret is rotated."
    )


class DeliveryRead(ReadSchema):
    """One message to a webhook and how sending it went."""

    model_config = examples(
        {
            "id": "0f4c1d2e-3a5b-4c6d-8e9f-a0b1c2d3e4f5",
            "webhook_id": "9b1f6c2e-4d3a-4e8b-a7c6-5d4e3f2a1b0c",
            "event_type": "time_entry.created",
            "status": "pending",
            "attempts": 2,
            "last_attempt_at": "2026-11-03T09:15:05Z",
            "last_status_code": 503,
            "last_duration_ms": 84,
            "last_error": None,
            "last_response": "Service Unavailable",
            "next_attempt_at": "2026-11-03T09:20:05Z",
            "created_at": "2026-11-03T09:15:00Z",
        }
    )

    id: uuid.UUID = Field(
        description="The message's id, sent as `webhook-id` in every attempt: the event's "
        "id, or a ping's own."
    )
    webhook_id: uuid.UUID
    event_type: str = Field(description="The event's type, or `webhook.ping`.")
    status: DeliveryStatus = Field(
        description="`pending` (owed, maybe retrying), `sending`, `delivered` (2xx), "
        "`failed` (retries ran out, or 410) or `skipped` (the webhook's creator may not "
        "read the event)."
    )
    attempts: int = Field(description="Attempts made so far.")
    last_attempt_at: datetime | None = Field(description="When it was last tried.")
    last_status_code: int | None = Field(description="The last answer's HTTP status.")
    last_duration_ms: int | None = Field(description="How long the last attempt took.")
    last_error: str | None = Field(description="Why the last attempt failed, without an answer.")
    last_response: str | None = Field(description="The start of the last answer's body.")
    next_attempt_at: datetime | None = Field(
        description="When it is (re)tried; null once delivered, failed or skipped."
    )
    created_at: datetime
