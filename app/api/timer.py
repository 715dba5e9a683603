from fastapi import Response

from app.api.deps import (
    CurrentUser,
    SessionDep,
    WorkspaceAccess,
    WorkspaceMember,
    authenticated_router,
    workspace_router,
)
from app.api.etag import respond
from app.api.time_entries import Tracking, render
from app.errors import responses
from app.repositories.time_entries import RunningEntryRepository
from app.repositories.workspaces import WorkspaceRepository
from app.schemas.common import rate_context
from app.schemas.time_entries import TimeEntryRead, TimerStart

router = workspace_router("timer", tag="timer")
me_router = authenticated_router("/users/me/timer", tag="timer")


@router.post(
    "/start",
    status_code=201,
    summary="Start the timer",
    description="Stops the caller's running entry first, in whichever workspace it runs.",
    responses=responses(409, 422),
)
async def start_timer(
    body: TimerStart, access: WorkspaceMember, tracking: Tracking, response: Response
) -> TimeEntryRead:
    return render(await tracking.start_timer(body), access, response)


@router.post("/stop", summary="Stop the timer")
async def stop_timer(
    access: WorkspaceMember, tracking: Tracking, response: Response
) -> TimeEntryRead:
    return render(await tracking.stop_timer(), access, response)


@me_router.get("", summary="The caller's running entry, or null")
async def get_my_timer(
    user: CurrentUser, session: SessionDep, response: Response
) -> TimeEntryRead | None:
    entry = await RunningEntryRepository(session).get_for_user(user.id)
    if entry is None:
        return None
    found = await WorkspaceRepository(session).get_membership(entry.workspace_id, user.id)
    rates_visible = found is not None and WorkspaceAccess(*found, user=user).can_see_rates
    return respond(response, TimeEntryRead, entry, context=rate_context(rates_visible))
