"""The webhook outbox: a delivery row for each new event and each enabled webhook of its
workspace subscribed to its type, written by `app.db.events.publish` in the transaction
that writes the event. A crash after the commit loses no delivery; a rollback leaves none.

One statement, whatever the number of events or webhooks: it matches the events just
numbered (by workspace and sequence range) against `webhook_subscriptions` in SQL. This is
SQLite's way; PostgreSQL queues them in the statement that inserts the events.
A process that runs a dispatcher registers a wake-up, called after a commit that queued
deliveries, so they go out at once instead of at the next poll.
"""

import uuid
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Connection, and_, event, exists, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from app.db.models import Event, Webhook, WebhookDelivery, webhook_subscriptions
from app.db.models.webhook import LIKE_ESCAPE
from app.db.types import UTCDateTime, str_enum
from app.enums import DeliveryStatus

_QUEUED = "webhook_deliveries_queued"
_EVENTS = Event.__table__
_WEBHOOKS = Webhook.__table__
_DELIVERIES = WebhookDelivery.__table__
_wakers: list[Callable[[], None]] = []


def queue_deliveries(
    session: Session,
    connection: Connection,
    workspace_id: uuid.UUID,
    numbers: tuple[int, int],
    now: datetime,
) -> None:
    """Queue the deliveries of the workspace's events numbered `first..last` (`numbers`)."""
    first, last = numbers
    just_numbered = and_(
        _EVENTS.c.workspace_id == workspace_id, _EVENTS.c.sequence.between(first, last)
    )
    subscribed = exists().where(
        webhook_subscriptions.c.webhook_id == _WEBHOOKS.c.id,
        _EVENTS.c.type.like(webhook_subscriptions.c.pattern, escape=LIKE_ESCAPE),
    )
    owed = (
        select(
            _WEBHOOKS.c.id,
            _EVENTS.c.id,
            _EVENTS.c.workspace_id,
            _EVENTS.c.type,
            literal(DeliveryStatus.PENDING, str_enum(DeliveryStatus)),
            literal(0),
            literal(now, UTCDateTime),
            literal(now, UTCDateTime),
        )
        .select_from(_EVENTS)
        .join(_WEBHOOKS, _WEBHOOKS.c.workspace_id == _EVENTS.c.workspace_id)
        .where(just_numbered, _WEBHOOKS.c.enabled, subscribed)
    )
    columns = [
        "webhook_id",
        "id",
        "workspace_id",
        "event_type",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
    ]
    result = connection.execute(insert(_DELIVERIES).from_select(columns, owed))
    if result.rowcount:
        wake_after_commit(session)


def wake_after_commit(session: Session | AsyncSession) -> None:
    """Have this process's dispatchers look at the outbox once `session` commits."""
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    sync.info[_QUEUED] = True


def on_queued(wake: Callable[[], None]) -> Callable[[], None]:
    """Call `wake` after each commit of this process that queued deliveries; the returned
    function stops it."""
    _wakers.append(wake)
    return lambda: _wakers.remove(wake)


def _after_commit(session: Session) -> None:
    if session.info.pop(_QUEUED, False):
        for wake in list(_wakers):
            wake()


def _after_rollback(session: Session) -> None:
    session.info.pop(_QUEUED, None)


event.listen(Session, "after_commit", _after_commit)
event.listen(Session, "after_rollback", _after_rollback)
