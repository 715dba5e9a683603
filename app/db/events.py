"""Events: every change to a model that declares `__event_subject__`, recorded in the
transaction that makes it.

No service or route records anything. Two session hooks do it for every write, whichever
path it takes (API, CLI, importer, seed):

- after each flush, the subjects the flush inserted, changed or deleted become pending
  events (type, subject, the subject after the change and the previous values of what
  changed), tagged with the transaction they were flushed in; a savepoint that rolls back
  (one item of a bulk request) drops its own, and a rolled-back transaction drops all;
- just before the session commits, the pending events take their workspace's next
  sequence numbers and are inserted. The numbers come from one upsert of the workspace's
  `event_counters` row, whose lock the transaction holds until it commits: a second writer
  of the workspace waits there, so numbers are handed out in commit order and a reader that
  has seen N never later finds a committed event below N.

Events that are no row's change (an import's summary) are added with `record`. A commit
that publishes events also wakes the streams that follow them: on PostgreSQL with a
NOTIFY on `NOTIFY_CHANNEL`, delivered to every process when (and only if) it commits, and
in this process through `take_published` (see `app.db.event_feed`).
"""

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import Connection, Exists, bindparam, event, exists, insert, inspect, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.orm.state import InstanceState

from app.db import webhook_outbox
from app.db.base import EventSubject
from app.db.models import Event, EventCounter, Webhook
from app.db.models.webhook import LIKE_ESCAPE
from app.db.prepared import Prepared
from app.db.types import UTCDateTime, utcnow
from app.enums import DeliveryStatus, EventOrigin

_CONTEXT = "event_context"
_PENDING = "pending_events"
_EXTRAS = "event_extras"
_PUBLISHED = "published_workspaces"
# Its payload is the workspace id.
NOTIFY_CHANNEL = "timesheet_events"
# Bookkeeping columns: they change with every write and say nothing of their own.
_UNTRACKED = frozenset({"created_at", "updated_at", "version"})
_EVENTS = Event.__table__
_COUNTERS = EventCounter.__table__
_WEBHOOKS = Webhook.__table__


@dataclass
class EventContext:
    """Who makes the changes of a unit of work, and how: stamped on each of its events."""

    origin: EventOrigin = EventOrigin.CLI
    actor_id: uuid.UUID | None = None
    request_id: str | None = None


@dataclass
class _Pending:
    workspace_id: uuid.UUID
    type: str
    subject_type: str
    subject_id: uuid.UUID
    data: dict[str, Any]
    user_id: uuid.UUID | None = None
    project_id: uuid.UUID | None = None
    transaction: SessionTransaction | None = field(default=None, repr=False)


def bind(session: Session | AsyncSession, unit: EventContext) -> None:
    """Stamp `unit` on the events of this session's work."""
    session.info[_CONTEXT] = unit


def context(session: Session | AsyncSession) -> EventContext:
    """The event context of this session's work (created on first use, as the CLI's)."""
    info = session.info
    if _CONTEXT not in info:
        info[_CONTEXT] = EventContext()
    found: EventContext = info[_CONTEXT]
    return found


def record(
    session: Session | AsyncSession,
    *,
    workspace_id: uuid.UUID,
    type: str,
    subject_type: str,
    subject_id: uuid.UUID,
    data: dict[str, Any],
    project_id: uuid.UUID | None = None,
) -> None:
    """Add an event that is no row's change; it commits or rolls back with the session.
    `project_id`: the project it concerns, which decides the members who read it."""
    _add(
        session,
        _Pending(
            workspace_id, type, subject_type, subject_id, jsonable(data), project_id=project_id
        ),
    )


def attach(
    session: Session | AsyncSession, subject: object, name: str, value: Any, previous: Any
) -> None:
    """Name a value of `subject` kept outside its row (an entry's tag ids), with the one it
    replaces, before the flush that writes the row: its event then carries both."""
    session.info.setdefault(_EXTRAS, {})[id(subject)] = (name, value, previous)


def inserted(
    session: Session | AsyncSession, subject: object, extra: tuple[str, Any, Any] | None = None
) -> None:
    """Add the event of `subject`, a new row inserted by a statement of its own rather than
    flushed: the one the flush would have made of it. `extra` is what `attach` would name."""
    described: EventSubject = type(subject).__event_subject__  # type: ignore[attr-defined]
    pending = _describe(subject, described, "created", extra)
    assert pending is not None  # a creation always has its event
    _add(session, pending)


def _add(session: Session | AsyncSession, pending: "_Pending") -> None:
    """Add `pending` to the session's events, tagged with the transaction it is made in."""
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    pending.transaction = _current_transaction(sync)
    _pending(sync).append(pending)


def jsonable(value: Any) -> Any:
    """`value` as JSON would hold it, instants as the API writes them."""
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(item) for item in value]
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


# Turning a flush into pending events


def _after_flush(session: Session, _flush_context: object) -> None:
    extras: dict[int, tuple[str, Any, Any]] = session.info.pop(_EXTRAS, {})
    changes = [
        *((obj, "created") for obj in session.new),
        *((obj, "changed") for obj in session.dirty),
        *((obj, "deleted") for obj in session.deleted),
    ]
    transaction = _current_transaction(session)
    for obj, change in changes:
        subject: EventSubject | None = getattr(type(obj), "__event_subject__", None)
        if subject is None:
            continue
        pending = _describe(obj, subject, change, extras.get(id(obj)))
        if pending is not None:
            pending.transaction = transaction
            _pending(session).append(pending)


def _describe(
    obj: object, subject: EventSubject, change: str, extra: tuple[str, Any, Any] | None
) -> _Pending | None:
    state: InstanceState[Any] = inspect(obj)
    after: dict[str, Any] = {}
    previous: dict[str, Any] = {}
    for attribute in state.mapper.column_attrs:
        key = attribute.key
        if key in subject.hidden:
            continue
        after[key] = state.dict.get(key)
        if change == "changed" and key not in _UNTRACKED:
            history = state.attrs[key].history
            if history.added:
                previous[key] = history.deleted[0] if history.deleted else None
    for name, relationship in subject.collections.items():
        loaded = state.dict.get(relationship)
        if loaded is not None:
            after[name] = sorted(str(item.id) for item in loaded)
    if extra is not None:
        name, value, before = extra
        after[name] = sorted(str(item) for item in value)
        if before is not None and set(map(str, before)) != set(after[name]):
            previous[name] = sorted(str(item) for item in before)
    if change == "changed" and not previous:
        return None  # touched but not changed (a version bump alone)
    data: dict[str, Any] = {"object": after}
    if previous:
        data["previous"] = previous
    workspace_id = getattr(obj, "workspace_id", None) or after["id"]
    project_id = after.get("project_id")
    if subject.name == "project":
        project_id = after["id"]
    return _Pending(
        workspace_id=workspace_id,
        type=_event_type(subject, change, after, previous),
        subject_type=subject.name,
        subject_id=after[subject.id_attribute],
        data=jsonable(data),
        user_id=after.get("user_id"),
        project_id=project_id,
    )


def _event_type(
    subject: EventSubject, change: str, after: dict[str, Any], previous: dict[str, Any]
) -> str:
    state = subject.state_field
    if change == "created":
        if state is not None:
            return f"{subject.name}.{after[state]}"
        if subject.timed and after.get("end_at") is None:
            return "timer.started"
        return f"{subject.name}.created"
    if change == "deleted":
        return f"{subject.name}.deleted"
    if state is not None and state in previous:
        return f"{subject.name}.{after[state]}"
    if "deleted_at" in previous:
        return f"{subject.name}.{'deleted' if after['deleted_at'] else 'restored'}"
    if subject.timed and "end_at" in previous and previous["end_at"] is None:
        return "timer.stopped"
    return f"{subject.name}.updated"


def _pending(session: Session) -> list[_Pending]:
    found: list[_Pending] = session.info.setdefault(_PENDING, [])
    return found


def _current_transaction(session: Session) -> SessionTransaction | None:
    return session.get_nested_transaction() or session.get_transaction()


def _after_soft_rollback(session: Session, previous: SessionTransaction) -> None:
    pending = session.info.get(_PENDING)
    if not pending:
        return
    session.info[_PENDING] = [item for item in pending if not _inside(item.transaction, previous)]


def _inside(transaction: SessionTransaction | None, outer: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is outer:
            return True
        transaction = transaction.parent
    return outer.parent is None


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
        session.info.pop(_EXTRAS, None)
        session.info.pop(_PUBLISHED, None)


# Publishing them with the commit


def _before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    if session.new or session.dirty or session.deleted:
        session.flush()  # the commit's own flush comes after this hook
    pending: list[_Pending] = session.info.pop(_PENDING, [])
    if pending:
        publish(session, pending)


def _has_webhooks(workspace_id: uuid.UUID) -> Exists:
    return exists().where(_WEBHOOKS.c.workspace_id == workspace_id, _WEBHOOKS.c.enabled)


# So many events' arrays per statement at most (a bulk change or a restore makes thousands).
_PUBLISH_CHUNK = 5000


def publish(session: Session, pending: Iterable[_Pending]) -> None:
    """Number and insert `pending` events; runs inside the committing transaction."""
    by_workspace: dict[uuid.UUID, list[_Pending]] = {}
    for item in pending:
        by_workspace.setdefault(item.workspace_id, []).append(item)
    connection = session.connection()
    now = utcnow()
    unit = context(session)
    on_postgresql = connection.dialect.name == "postgresql"
    # Counters are taken in workspace order, so two transactions cannot deadlock on them.
    for workspace_id in sorted(by_workspace):
        items = by_workspace[workspace_id]
        if on_postgresql:
            for start in range(0, len(items), _PUBLISH_CHUNK):
                chunk = items[start : start + _PUBLISH_CHUNK]
                _publish_in_one_statement(session, connection, unit, now, workspace_id, chunk)
        else:
            _publish_step_by_step(session, connection, unit, now, workspace_id, items)
    session.info.setdefault(_PUBLISHED, set()).update(by_workspace)


# PostgreSQL numbers, inserts and queues a workspace's events in one round trip: the counter
# upsert takes the row lock held until commit, the events take the numbers it returns, and
# each enabled webhook subscribed to an event's type gets its delivery row.
_PUBLISH_STATEMENT = Prepared(
    text(
        """
WITH counter AS (
    INSERT INTO event_counters (workspace_id, last_sequence)
    VALUES (:workspace_id, :count)
    ON CONFLICT (workspace_id)
    DO UPDATE SET last_sequence = event_counters.last_sequence + excluded.last_sequence
    RETURNING last_sequence
), numbered AS (
    INSERT INTO events (id, workspace_id, sequence, type, actor_id, origin, request_id,
        occurred_at, subject_type, subject_id, user_id, project_id, data)
    SELECT item.id, :workspace_id, counter.last_sequence - :count + item.ordinal, item.type,
        :actor_id, :origin, :request_id, :occurred_at, item.subject_type, item.subject_id,
        item.user_id, item.project_id, CAST(item.data AS jsonb)
    FROM counter, unnest(
        CAST(:ids AS uuid[]), CAST(:types AS varchar[]), CAST(:subject_types AS varchar[]),
        CAST(:subject_ids AS uuid[]), CAST(:user_ids AS uuid[]), CAST(:project_ids AS uuid[]),
        CAST(:data AS text[])
    ) WITH ORDINALITY
        AS item(id, type, subject_type, subject_id, user_id, project_id, data, ordinal)
    RETURNING id, type
), queued AS (
    INSERT INTO webhook_deliveries (webhook_id, id, workspace_id, event_type, status, attempts,
        next_attempt_at, created_at)
    SELECT webhook.id, numbered.id, :workspace_id, numbered.type, :pending, 0, :occurred_at,
        :occurred_at
    FROM numbered JOIN webhooks AS webhook
        ON webhook.workspace_id = :workspace_id AND webhook.enabled
    WHERE EXISTS (
        SELECT FROM webhook_subscriptions AS subscription
        WHERE subscription.webhook_id = webhook.id
            AND numbered.type LIKE subscription.pattern ESCAPE :like_escape
    )
    RETURNING 1
)
SELECT (SELECT count(*) FROM queued), pg_notify(:channel, CAST(:workspace_id AS text))
"""
    ).bindparams(bindparam("occurred_at", type_=UTCDateTime))
)


def _publish_in_one_statement(
    session: Session,
    connection: Connection,
    unit: EventContext,
    now: datetime,
    workspace_id: uuid.UUID,
    items: list[_Pending],
) -> None:
    [(queued, _)] = _PUBLISH_STATEMENT.rows_in_greenlet(
        connection,
        {
            "workspace_id": workspace_id,
            "count": len(items),
            "actor_id": unit.actor_id,
            "origin": unit.origin.value,
            "request_id": unit.request_id,
            "occurred_at": now,
            "pending": DeliveryStatus.PENDING.value,
            "like_escape": LIKE_ESCAPE,
            "channel": NOTIFY_CHANNEL,
            "ids": [uuid.uuid4() for _ in items],
            "types": [item.type for item in items],
            "subject_types": [item.subject_type for item in items],
            "subject_ids": [item.subject_id for item in items],
            "user_ids": [item.user_id for item in items],
            "project_ids": [item.project_id for item in items],
            "data": [json.dumps(item.data) for item in items],
        },
    )
    if queued:
        webhook_outbox.wake_after_commit(session)


def _publish_step_by_step(
    session: Session,
    connection: Connection,
    unit: EventContext,
    now: datetime,
    workspace_id: uuid.UUID,
    items: list[_Pending],
) -> None:
    fresh = sqlite.insert(_COUNTERS).values(workspace_id=workspace_id, last_sequence=len(items))
    statement = fresh.on_conflict_do_update(
        index_elements=[_COUNTERS.c.workspace_id],
        set_={"last_sequence": _COUNTERS.c.last_sequence + len(items)},
    ).returning(_COUNTERS.c.last_sequence, _has_webhooks(workspace_id))
    last, has_webhooks = connection.execute(statement).one()
    first = last - len(items) + 1
    rows = [
        {
            "id": uuid.uuid4(),
            "workspace_id": workspace_id,
            "sequence": number,
            "type": item.type,
            "actor_id": unit.actor_id,
            "origin": unit.origin,
            "request_id": unit.request_id,
            "occurred_at": now,
            "subject_type": item.subject_type,
            "subject_id": item.subject_id,
            "user_id": item.user_id,
            "project_id": item.project_id,
            "data": item.data,
        }
        for number, item in enumerate(items, start=first)
    ]
    connection.execute(insert(_EVENTS), rows)
    if has_webhooks:
        webhook_outbox.queue_deliveries(session, connection, workspace_id, (first, last), now)


def take_published(session: Session) -> set[uuid.UUID]:
    """The workspaces the session's commit just published events of; asked once, after it."""
    published: set[uuid.UUID] = session.info.pop(_PUBLISHED, set())
    return published


event.listen(Session, "after_flush", _after_flush)
event.listen(Session, "after_soft_rollback", _after_soft_rollback)
event.listen(Session, "after_transaction_end", _after_transaction_end)
event.listen(Session, "before_commit", _before_commit)
