from typing import Annotated

from fastapi import Depends, Query

from app.api.deps import SessionDep, WorkspaceCaller, read_context, workspace_router
from app.api.filters import PageParamsDep
from app.api.problems import responses
from app.db.models import Event
from app.pagination import SortKey
from app.repositories.events import EventFilters, EventRepository
from app.schemas.common import Page, page_of
from app.schemas.events import EventFilters as EventQuery
from app.schemas.events import EventOrder, EventRead
from app.services import policies

router = workspace_router("events", tag="events")

ORDERS = {
    EventOrder.SEQUENCE: SortKey(Event.sequence, Event.id),
    EventOrder.SEQUENCE_DESC: SortKey(Event.sequence, Event.id, descending=True),
}


async def readable_events(caller: WorkspaceCaller, session: SessionDep) -> EventRepository:
    """Everything for admins; for members, their own entries' events and the catalog's."""
    workspace_id = caller.current_workspace().id
    return EventRepository(session, workspace_id, viewer_id=policies.event_viewer(caller))


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
