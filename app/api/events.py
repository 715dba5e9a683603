"""The audit log, and the same events live as Server-Sent Events."""

import logging
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Header, Path, Query, Request, Response
from sqlalchemy.exc import DBAPIError
from sse_starlette import EventSourceResponse, ServerSentEvent

from app.api.deps import (
    API_PREFIX,
    BearerToken,
    SettingsDep,
    UnitOfWorkDep,
    WorkspaceCaller,
    api_router,
    read_context,
    workspace_router,
)
from app.api.filters import PageParamsDep
from app.api.problems import responses
from app.db.models import Event
from app.observability.middleware import log_caller
from app.pagination import SortKey
from app.repositories.events import EventCounterRepository, EventFilters, EventRepository
from app.schemas.common import Page, page_of
from app.schemas.events import EventFilters as EventQuery
from app.schemas.events import EventOrder, EventRead, StreamTicketRead
from app.services import policies
from app.services.accounts import Credential, authenticate, authenticate_again
from app.services.caller import Caller
from app.services.event_stream import EventStream, Heartbeat, issue_ticket, redeem_ticket

logger = logging.getLogger(__name__)

router = workspace_router("events", tag="events")
# The stream takes a ticket instead of a bearer token, so it is not behind the router's
# bearer-only gate; it authenticates the same way itself.
stream_router = api_router(
    prefix=f"{API_PREFIX}/workspaces/{{workspace_id}}/events",
    tags=["events"],
    responses=responses(401, 404),
)
EVENT_STREAM = "text/event-stream"

ORDERS = {
    EventOrder.SEQUENCE: SortKey(Event.sequence, Event.id),
    EventOrder.SEQUENCE_DESC: SortKey(Event.sequence, Event.id, descending=True),
}


async def readable_events(caller: WorkspaceCaller, uow: UnitOfWorkDep) -> EventRepository:
    """Everything for admins; for members, their own entries' events and the catalog's."""
    workspace_id = caller.current_workspace().id
    return EventRepository(uow.session, workspace_id, viewer_id=policies.event_viewer(caller))


Events = Annotated[EventRepository, Depends(readable_events)]


@router.get(
    "",
    summary="List events (the audit log)",
    description=(
        "Every change in the workspace, newest first (`order=sequence` to follow it from "
        "`after`). Owners and admins read every event; members the events of their own "
        "entries and of the clients, tags, projects and tasks they can see."
    ),
    responses=responses(422),
)
async def list_events(
    caller: WorkspaceCaller,
    events: Events,
    page: PageParamsDep,
    filters: Annotated[EventQuery, Query()],
    order: Annotated[
        EventOrder, Query(description="`-sequence` (newest first) or `sequence`.")
    ] = EventOrder.SEQUENCE_DESC,
) -> Page[EventRead]:
    statement = events.search(
        EventFilters(
            types=filters.types(),
            subject_id=filters.subject_id,
            actor_id=filters.actor_id,
            occurred_from=filters.from_,
            occurred_to=filters.to,
            after_sequence=filters.after,
        )
    )
    result = await events.list(page, ORDERS[order], statement)
    return page_of(EventRead, result, context=read_context(caller))


@router.post(
    "/stream-tickets",
    status_code=201,
    summary="Create a ticket for the event stream",
    description=(
        "A single-use ticket, valid for 60 s, to open `GET …/events/stream?ticket=…` "
        "where no Authorization header can be sent (a browser's `EventSource`). The stream "
        "it opens lasts as long as the credential that created it."
    ),
)
async def create_stream_ticket(
    caller: WorkspaceCaller, uow: UnitOfWorkDep, response: Response
) -> StreamTicketRead:
    ticket, expires_at = await issue_ticket(uow, caller)
    response.headers["Cache-Control"] = "no-store"
    return StreamTicketRead(ticket=ticket, expires_at=expires_at)


async def stream_caller(
    request: Request,
    workspace_id: Annotated[uuid.UUID, Path()],
    uow: UnitOfWorkDep,
    settings: SettingsDep,
    token: BearerToken,
    ticket: Annotated[
        str | None,
        Query(max_length=100, description="A ticket from `POST …/events/stream-tickets`."),
    ] = None,
) -> tuple[Caller, Credential]:
    """The stream's gate, in place of `workspace_caller`: a bearer token or a ticket, and
    membership of the workspace either way (outsiders get 404)."""
    if ticket is not None:
        credential = await redeem_ticket(uow, ticket, workspace_id)
        caller = await authenticate_again(uow, credential)
    else:
        caller = await authenticate(uow, settings, token, workspace_id=workspace_id)
        credential = Credential.of(caller)
    log_caller(request, caller)
    return caller, credential


@stream_router.get(
    "/stream",
    summary="Follow events as they happen (Server-Sent Events)",
    description=(
        "The events of the audit log, as they commit, oldest first and each once: "
        "`id: <sequence>`, `event: <type>`, `data: <the event as the audit log shows it>`. "
        "The same events are visible as in the audit log, rates hidden the same way. A "
        "comment line (`: heartbeat`) comes every 15 s; at each the caller's access is "
        "checked again, and the stream ends once it is gone (a password change, a revoked "
        "token, a removed membership). To resume without missing anything, send the last "
        "`id` seen as `Last-Event-ID` (browsers do on reconnecting) or `?after=`; with "
        "neither, the stream starts with the next event. Authenticate with a bearer token "
        "or a `?ticket=` from `POST …/events/stream-tickets`."
    ),
    response_class=EventSourceResponse,
    responses={
        200: {
            "description": "An endless stream of events, until access ends or the server stops.",
            "content": {EVENT_STREAM: {"schema": {"type": "string"}}},
        },
        **responses(422),
    },
)
async def stream_events(
    request: Request,
    workspace_id: Annotated[uuid.UUID, Path()],
    uow: UnitOfWorkDep,
    settings: SettingsDep,
    reader: Annotated[tuple[Caller, Credential], Depends(stream_caller)],
    after: Annotated[
        int | None, Query(ge=0, description="Start after the event with this sequence.")
    ] = None,
    last_event_id: Annotated[
        int | None,
        Header(
            alias="Last-Event-ID",
            ge=0,
            description="The last `id` received; wins over `after`.",
        ),
    ] = None,
) -> EventSourceResponse:
    caller, credential = reader
    start = last_event_id if last_event_id is not None else after
    if start is None:
        start = await EventCounterRepository(uow.session).last_sequence(workspace_id)
    stream = EventStream(
        request.app.state.sessions,
        request.app.state.event_feed,
        credential,
        caller,
        after_sequence=start,
        heartbeat_seconds=settings.event_stream_heartbeat_seconds,
    )
    # The request's unit of work ends as this returns: the stream reads on its own.
    return EventSourceResponse(_server_sent(stream), ping=0)


async def _server_sent(stream: EventStream) -> AsyncIterator[ServerSentEvent]:
    try:
        async for item in stream.follow():
            if isinstance(item, Heartbeat):
                yield ServerSentEvent(comment="heartbeat")
                continue
            event = EventRead.model_validate(item, context=read_context(stream.caller))
            yield ServerSentEvent(event.model_dump_json(), event=item.type, id=str(item.sequence))
    except DBAPIError as exc:
        # The client reconnects with the last id it saw; nothing is lost.
        logger.warning("An event stream ended: the database failed (%s).", exc)
