"""Wake-ups for the event streams of one process: which workspaces may have new events.

The events table is the truth, and this only says when to look at it again. A stream
subscribes to its workspace, reads what is new, and waits for its next wake-up, which
comes from:

- a commit of this process, at once (`events.take_published`, after each commit);
- on PostgreSQL, a NOTIFY on `events.NOTIFY_CHANNEL` sent by the commit of any process,
  heard by one dedicated connection per process (not one per stream, and not from the
  request pool). When that connection is lost, every stream is woken and it connects
  again;
- where LISTEN is not available (SQLite, and PgBouncer in transaction mode, which would
  hand the LISTEN to a server connection that others then use), one read per process
  every `event_stream_poll_seconds` of the counters of the workspaces followed; a
  workspace whose counter moved is woken.

A wake-up too many costs a stream one read that finds nothing; none is ever needed for
correctness beyond latency, because every stream also reads at each heartbeat.
"""

import asyncio
import contextvars
import logging
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import events
from app.db.engine import Sessions
from app.repositories.events import EventCounterRepository

logger = logging.getLogger(__name__)

# After losing the listening connection (or failing to make it), wait this long to retry.
RECONNECT_SECONDS = 1.0
# How the listening connection shows in `pg_stat_activity`.
LISTENER_NAME = "timesheet event feed"
# With nothing heard for this long the listening connection is asked a question: one cut
# without a word (a dropped network) is found and replaced.
LISTEN_CHECK_SECONDS = 30.0

_running: "weakref.WeakSet[EventFeed]" = weakref.WeakSet()


class Subscription:
    """One stream's wake-ups."""

    def __init__(self) -> None:
        self._woken = asyncio.Event()

    def wake(self) -> None:
        self._woken.set()

    async def wait(self, at_most: float) -> None:
        """Until woken (now or since the last wait) or `at_most` seconds have passed."""
        with suppress(TimeoutError):
            async with asyncio.timeout(at_most):
                await self._woken.wait()
        self._woken.clear()


class EventFeed:
    """The wake-ups of one process's streams; started by the first subscription."""

    def __init__(self, settings: Settings) -> None:
        self._listens = not settings.is_sqlite and not settings.db_pgbouncer
        self._database_url = settings.database_url
        self._poll_seconds = settings.event_stream_poll_seconds
        self._subscribers: dict[uuid.UUID, set[Subscription]] = {}
        self._task: asyncio.Task[None] | None = None

    @contextmanager
    def subscribe(self, workspace_id: uuid.UUID, sessions: Sessions) -> Iterator[Subscription]:
        """Wake-ups for new events of `workspace_id`, until the block ends."""
        self._start(sessions)
        subscription = Subscription()
        self._subscribers.setdefault(workspace_id, set()).add(subscription)
        try:
            yield subscription
        finally:
            followers = self._subscribers[workspace_id]
            followers.discard(subscription)
            if not followers:
                del self._subscribers[workspace_id]

    def wake(self, workspace_ids: set[uuid.UUID]) -> None:
        for workspace_id in workspace_ids:
            for subscription in self._subscribers.get(workspace_id, ()):
                subscription.wake()

    def wake_all(self) -> None:
        self.wake(set(self._subscribers))

    async def close(self) -> None:
        _running.discard(self)
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    def _start(self, sessions: Sessions) -> None:
        if self._task is not None:
            return
        watch = self._listen() if self._listens else self._poll(sessions)
        # A context of its own: it outlives the request that starts it, whose id would
        # otherwise tag its log lines.
        self._task = asyncio.create_task(watch, name="event-feed", context=contextvars.Context())
        _running.add(self)

    # PostgreSQL: LISTEN on one connection of its own

    async def _listen(self) -> None:
        url = make_url(self._database_url)
        arguments: dict[str, Any] = asyncpg_dialect().create_connect_args(url)[1]
        arguments["server_settings"] = {"application_name": LISTENER_NAME}
        while True:
            connection: asyncpg.Connection | None = None
            try:
                connection = await asyncpg.connect(**arguments)
                lost = asyncio.Event()
                connection.add_termination_listener(lambda _connection, lost=lost: lost.set())
                await connection.add_listener(events.NOTIFY_CHANNEL, self._notified)
                # Whatever committed while nobody was listening.
                self.wake_all()
                while not lost.is_set():
                    try:
                        async with asyncio.timeout(LISTEN_CHECK_SECONDS):
                            await lost.wait()
                    except TimeoutError:
                        await connection.fetchval("SELECT 1", timeout=LISTEN_CHECK_SECONDS)
                logger.warning("The connection listening for events was closed; reconnecting.")
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                logger.warning("Listening for events failed (%s); retrying.", exc)
            finally:
                if connection is not None:
                    connection.terminate()
            self.wake_all()
            await asyncio.sleep(RECONNECT_SECONDS)

    def _notified(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            workspace_id = uuid.UUID(payload)
        except ValueError:
            logger.warning("Ignored a notification with payload %r.", payload[:64])
            return
        self.wake({workspace_id})

    # SQLite and PgBouncer: one look at the counters per interval

    async def _poll(self, sessions: Sessions) -> None:
        seen: dict[uuid.UUID, int] = {}
        while True:
            await asyncio.sleep(self._poll_seconds)
            followed = set(self._subscribers)
            if not followed:
                seen.clear()
                continue
            try:
                async with sessions.reading() as session:
                    latest = await EventCounterRepository(session).last_sequences(followed)
            except (DBAPIError, OSError) as exc:
                logger.warning("Looking for new events failed (%s); retrying.", exc)
                continue
            # A counter seen for the first time wakes too: its stream may have read just
            # before it moved.
            moved = {ws for ws, last in latest.items() if seen.get(ws) != last}
            seen = {ws: last for ws, last in latest.items()}
            self.wake(moved)


def _wake_after_commit(session: Session) -> None:
    published = events.take_published(session)
    if published:
        for feed in list(_running):
            feed.wake(published)


event.listen(Session, "after_commit", _wake_after_commit)
