"""Live updates: a workspace's events as they commit, for as long as the caller may read
them, and the tickets that let a browser open such a stream."""

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.engine import Sessions
from app.db.models import Event
from app.db.types import utcnow
from app.db.unit_of_work import UnitOfWork
from app.errors import NotAuthenticated, NotFound
from app.repositories.events import EventRepository
from app.repositories.stream_tickets import StreamTicketRepository
from app.services import policies
from app.services.accounts import Credential, authenticate_again
from app.services.caller import Caller
from app.services.event_feed import EventFeed

logger = logging.getLogger(__name__)

TICKET_LIFETIME = timedelta(seconds=60)
TICKET_REFUSED = "The stream ticket is unknown, used or expired."
# Events read per round trip; a stream far behind catches up page by page.
PAGE_SIZE = 100


class Heartbeat:
    """Said on an idle stream at each heartbeat, once the caller was found still allowed."""


HEARTBEAT: Final = Heartbeat()


async def issue_ticket(uow: UnitOfWork, caller: Caller) -> tuple[str, datetime]:
    """A ticket for the caller's workspace's stream, standing for the caller's credential;
    its secret and when it expires."""
    credential = Credential.of(caller)
    now = utcnow()
    expires_at = now + TICKET_LIFETIME
    secret = await StreamTicketRepository(uow.session).issue(
        user_id=credential.user_id,
        workspace_id=credential.workspace_id,
        token_generation=credential.token_generation,
        api_token_id=credential.api_token_id,
        now=now,
        expires_at=expires_at,
    )
    return secret, expires_at


async def redeem_ticket(uow: UnitOfWork, secret: str, workspace_id: uuid.UUID) -> Credential:
    """The credential a ticket of this workspace stands for; the ticket is used up at once,
    in a transaction of its own, whatever happens next."""

    async def redeem(session: AsyncSession) -> tuple[uuid.UUID, int, uuid.UUID | None] | None:
        return await StreamTicketRepository(session).redeem(secret, workspace_id, utcnow())

    found = await uow.write_apart(redeem)
    if found is None:
        raise NotAuthenticated(TICKET_REFUSED)
    user_id, token_generation, api_token_id = found
    return Credential(user_id, workspace_id, token_generation, api_token_id)


class EventStream:
    """One caller following one workspace's events from `after_sequence` on.

    Holds no database connection while it waits: each read is a short read-only unit of
    work. At each heartbeat the caller's credential and membership are checked again (and
    what they may see is taken from that check); the stream ends once either is gone.
    """

    def __init__(
        self,
        sessions: Sessions,
        feed: EventFeed,
        credential: Credential,
        caller: Caller,
        *,
        after_sequence: int,
        heartbeat_seconds: float,
    ) -> None:
        self.sessions = sessions
        self.feed = feed
        self.credential = credential
        # Who reads, as of the last check: what members see and whether rates show.
        self.caller = caller
        self.last_sequence = after_sequence
        self.heartbeat_seconds = heartbeat_seconds

    async def follow(self) -> AsyncIterator[Event | Heartbeat]:
        """The events in order, each once, with a heartbeat when one is due."""
        loop = asyncio.get_running_loop()
        workspace_id = self.credential.workspace_id
        with self.feed.subscribe(workspace_id, self.sessions) as wake_up:
            heartbeat_at = loop.time() + self.heartbeat_seconds
            while True:
                async for page in self._pages():
                    for event in page:
                        yield event
                await wake_up.wait(max(0.0, heartbeat_at - loop.time()))
                if loop.time() < heartbeat_at:
                    continue
                if not await self._still_allowed():
                    return
                yield HEARTBEAT
                heartbeat_at = loop.time() + self.heartbeat_seconds

    async def _pages(self) -> AsyncIterator[Sequence[Event]]:
        """Everything after the last event read, a page at a time, each read in a unit of
        work that has ended before the page is sent: a slow reader keeps no connection."""
        while True:
            async with UnitOfWork(self.sessions, read_only=True) as uow:
                events = EventRepository(
                    uow.session,
                    self.credential.workspace_id,
                    viewer_id=policies.event_viewer(self.caller),
                )
                page = await events.following(self.last_sequence, PAGE_SIZE)
            if page:
                self.last_sequence = page[-1].sequence
                yield page
            if len(page) < PAGE_SIZE:
                return

    async def _still_allowed(self) -> bool:
        try:
            async with UnitOfWork(self.sessions, read_only=True) as uow:
                self.caller = await authenticate_again(uow, self.credential)
        except (NotAuthenticated, NotFound):
            return False
        return True
