import uuid
from typing import Annotated

from fastapi import Depends, Query, Response

from app.api.deps import (
    UnitOfWorkDep,
    WorkspaceCaller,
    read_context,
    service,
    workspace_router,
)
from app.api.etag import editable, respond
from app.api.filters import PageParamsDep
from app.api.problems import responses, status_of
from app.api.rendering import render_one, render_page
from app.db.models import TimeEntry
from app.pagination import SortKey
from app.repositories.time_entries import EntryFilters, TimeEntryRepository
from app.schemas.common import Page
from app.schemas.time_entries import (
    BulkIds,
    TimeEntryBulkResult,
    TimeEntryBulkResults,
    TimeEntryBulkUpdate,
    TimeEntryCreate,
    TimeEntryFilters,
    TimeEntryRead,
    TimeEntrySort,
    TimeEntryUpdate,
)
from app.services import policies
from app.services.caller import Caller
from app.services.time_entries import BulkOutcome, TimeEntryService

router = workspace_router("time-entries", tag="time-entries")

_ENTRIES = TimeEntry.__table__.c
SORTS = {
    TimeEntrySort.START_AT_DESC: SortKey(_ENTRIES.start_at, _ENTRIES.id, descending=True),
    TimeEntrySort.START_AT: SortKey(_ENTRIES.start_at, _ENTRIES.id),
    TimeEntrySort.UPDATED_AT: SortKey(_ENTRIES.updated_at, _ENTRIES.id),
}


async def readable_entries(caller: WorkspaceCaller, uow: UnitOfWorkDep) -> TimeEntryRepository:
    """The entries the caller may read: everyone's for admins, their own for members."""
    workspace_id = caller.current_workspace().id
    return TimeEntryRepository(uow.session, workspace_id, viewer_id=policies.entry_viewer(caller))


Entries = Annotated[TimeEntryRepository, Depends(readable_entries)]
Tracking = Annotated[TimeEntryService, Depends(service(TimeEntryService))]


async def live_entry(entry_id: uuid.UUID, entries: Entries) -> TimeEntry:
    return await entries.get(entry_id)


EditedEntry = Annotated[TimeEntry, Depends(editable(live_entry))]


def bulk_results(outcomes: list[BulkOutcome], caller: Caller, *, done: int) -> TimeEntryBulkResults:
    """Each entry's result, with the status its single request would have answered."""
    context = read_context(caller)
    return TimeEntryBulkResults(
        results=[
            TimeEntryBulkResult(
                id=outcome.id,
                status=status_of(outcome.error) if outcome.error else done,  # type: ignore[arg-type]
                detail=outcome.error.detail if outcome.error else None,
                entry=(
                    TimeEntryRead.model_validate(outcome.entry, context=context)
                    if outcome.entry is not None
                    else None
                ),
            )
            for outcome in outcomes
        ]
    )


@router.get(
    "",
    summary="List time entries",
    description=(
        "Members see their own entries, admins everyone's. `from`/`to` select entries by "
        "their start, half-open: `from` <= start_at < `to`. To sync, pass `updated_since`, "
        "`include_deleted=true` and `sort=updated_at`: deleted entries come back with "
        "`deleted_at` set."
    ),
    responses=responses(422),
    response_model=Page[TimeEntryRead],
)
async def list_time_entries(
    caller: WorkspaceCaller,
    entries: Entries,
    page: PageParamsDep,
    filters: Annotated[TimeEntryFilters, Query()],
    sort: Annotated[
        TimeEntrySort,
        Query(description="`-start_at` (newest first), `start_at`, or `updated_at` to sync."),
    ] = TimeEntrySort.START_AT_DESC,
) -> Response:
    result = await entries.page(EntryFilters(**filters.model_dump()), SORTS[sort], page)
    return render_page(TimeEntryRead, result, caller)


@router.post(
    "",
    status_code=201,
    summary="Create a time entry",
    description="With `end_at` a finished entry; without, a running one (409 if one runs). "
    "409 `period-locked` when its time is closed.",
    responses=responses(403, 409, 422),
    response_model=TimeEntryRead,
)
async def create_time_entry(
    body: TimeEntryCreate, caller: WorkspaceCaller, tracking: Tracking
) -> Response:
    entry = await tracking.create(body.model_dump())
    return render_one(TimeEntryRead, entry, caller, status_code=201)


@router.patch(
    "",
    summary="Change many time entries",
    description="Applies the same changes to each entry; every id gets its own result (409 "
    "for an entry whose time is closed, while the others go on).",
    responses=responses(422),
)
async def bulk_update_time_entries(
    body: TimeEntryBulkUpdate, caller: WorkspaceCaller, tracking: Tracking
) -> TimeEntryBulkResults:
    outcomes = await tracking.bulk_update(body.ids, body.changes.model_dump())
    return bulk_results(outcomes, caller, done=200)


@router.delete(
    "",
    summary="Delete many time entries",
    description="Every id gets its own result.",
    responses=responses(422),
)
async def bulk_delete_time_entries(
    ids: Annotated[BulkIds, Query()], caller: WorkspaceCaller, tracking: Tracking
) -> TimeEntryBulkResults:
    return bulk_results(await tracking.bulk_delete(ids), caller, done=204)


@router.get(
    "/{entry_id}",
    summary="Get a time entry",
    description="Members get their own entries, admins anyone's. Deleted entries are found "
    "too, with `deleted_at` set.",
    response_model=TimeEntryRead,
)
async def get_time_entry(
    entry_id: uuid.UUID, caller: WorkspaceCaller, entries: Entries
) -> Response:
    entry = await entries.get_row(entry_id, include_deleted=True)
    return render_one(TimeEntryRead, entry, caller)


@router.patch(
    "/{entry_id}",
    summary="Update a time entry",
    description="Absent fields stay as they are. Setting `end_at` stops a running entry. With "
    "`If-Match`, the change happens only if nobody changed the entry since that read (412 "
    "otherwise). 409 when the workspace prevents overlaps and the new times clash, and "
    "`period-locked` when the entry's time, before or after the change, is closed.",
    responses=responses(403, 409, 412, 422),
    response_model=TimeEntryRead,
)
async def update_time_entry(
    body: TimeEntryUpdate, caller: WorkspaceCaller, entry: EditedEntry, tracking: Tracking
) -> Response:
    entry = await tracking.update(entry, body.model_dump())
    return render_one(TimeEntryRead, entry, caller)


@router.delete(
    "/{entry_id}",
    status_code=204,
    summary="Delete a time entry",
    description="The entry is marked deleted: lists leave it out unless `include_deleted=true`, "
    "and `restore` brings it back. 409 `period-locked` when its time is closed.",
    responses=responses(409, 412),
)
async def delete_time_entry(entry: EditedEntry, tracking: Tracking) -> None:
    await tracking.delete(entry)


@router.post(
    "/{entry_id}/restore",
    summary="Restore a deleted time entry",
    description="409 when the entry would now overlap another (where the workspace prevents "
    "overlaps), would be a second running entry, or its time is closed (`period-locked`).",
    responses=responses(409),
)
async def restore_time_entry(
    entry_id: uuid.UUID,
    caller: WorkspaceCaller,
    entries: Entries,
    tracking: Tracking,
    response: Response,
) -> TimeEntryRead:
    entry = await tracking.restore(await entries.get(entry_id, include_deleted=True))
    return respond(response, TimeEntryRead, entry, caller)
