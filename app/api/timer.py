from fastapi import Response

from app.api.deps import (
    CurrentCaller,
    SessionDep,
    WorkspaceCaller,
    authenticated_router,
    workspace_router,
)
from app.api.etag import respond
from app.api.problems import responses
from app.api.rendering import render_one
from app.api.time_entries import Tracking
from app.repositories.time_entries import RunningEntryRepository, WrittenEntry
from app.repositories.workspaces import WorkspaceRepository
from app.schemas.time_entries import TimeEntryRead, TimerStart

router = workspace_router("timer", tag="timer")
me_router = authenticated_router("/users/me/timer", tag="timer")


@router.post(
    "/start",
    status_code=201,
    summary="Start the timer",
    description="Stops the caller's running entry first, in whichever workspace it runs. 409 "
    "`period-locked` when now is in closed time for the caller.",
    responses=responses(409, 422),
    response_model=TimeEntryRead,
)
async def start_timer(body: TimerStart, caller: WorkspaceCaller, tracking: Tracking) -> Response:
    entry = await tracking.start_timer(body.model_dump())
    return render_one(TimeEntryRead, entry, caller, status_code=201)


@router.post(
    "/stop",
    summary="Stop the timer",
    description="Ends the caller's running entry in this workspace now; 404 when none runs, "
    "409 `period-locked` when its time is closed.",
    responses=responses(409),
    response_model=TimeEntryRead,
)
async def stop_timer(caller: WorkspaceCaller, tracking: Tracking) -> Response:
    return render_one(TimeEntryRead, await tracking.stop_timer(), caller)


@me_router.get(
    "",
    summary="Get my running entry",
    description="The caller's running entry, in whichever workspace it runs; 204 when no "
    "timer runs.",
    response_model=TimeEntryRead,
    responses={204: {"description": "No timer runs."}},
)
async def get_my_timer(
    caller: CurrentCaller, session: SessionDep, response: Response
) -> TimeEntryRead | Response:
    entry = await RunningEntryRepository(session).get_for_user(caller.user_id)
    if entry is None:
        return Response(status_code=204)
    found = await WorkspaceRepository(session).get_membership(entry.workspace_id, caller.user_id)
    # A running entry is never in closed time: every path that closes time refuses to close
    # a running entry's start, and no entry starts running in closed time.
    read = WrittenEntry(entry, [tag.id for tag in entry.tags], locked_reason=None)
    # Rates show as the caller's standing in the entry's workspace allows, if they still have one.
    return respond(response, TimeEntryRead, read, caller.in_workspace(*found) if found else caller)
