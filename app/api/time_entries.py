import uuid
from typing import Annotated

from fastapi import Depends, Query, Response

from app.api.deps import WorkspaceMember, visible, workspace_router
from app.api.etag import IfMatch, check_if_match, respond
from app.db.models import TimeEntry
from app.enums import EntrySource
from app.errors import responses
from app.pagination import PageParamsDep, SortKey
from app.repositories.time_entries import TimeEntryRepository
from app.schemas.common import Page, page_of
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
from app.services.time_entries import BulkOutcome, TimeEntryService

router = workspace_router("time-entries", tag="time-entries")
Entries = Annotated[TimeEntryRepository, Depends(visible(TimeEntryRepository))]

SORTS = {
    TimeEntrySort.START_AT_DESC: SortKey(TimeEntry.start_at, TimeEntry.id, descending=True),
    TimeEntrySort.START_AT: SortKey(TimeEntry.start_at, TimeEntry.id),
    TimeEntrySort.UPDATED_AT: SortKey(TimeEntry.updated_at, TimeEntry.id),
}


def tracking(access: WorkspaceMember, entries: Entries) -> TimeEntryService:
    return TimeEntryService(
        entries,
        workspace=access.workspace,
        membership=access.membership,
        is_admin=access.is_admin,
        written_source=EntrySource.API if access.via_api_token else EntrySource.MANUAL,
    )


Tracking = Annotated[TimeEntryService, Depends(tracking)]


def render(entry: TimeEntry, access: WorkspaceMember, response: Response) -> TimeEntryRead:
    return respond(response, TimeEntryRead, entry, context=access.read_context)


def bulk_results(outcomes: list[BulkOutcome], access: WorkspaceMember) -> TimeEntryBulkResults:
    context = access.read_context
    return TimeEntryBulkResults(
        results=[
            TimeEntryBulkResult(
                id=outcome.id,
                status=outcome.status,  # type: ignore[arg-type]
                detail=outcome.detail,
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
)
async def list_time_entries(
    access: WorkspaceMember,
    entries: Entries,
    page: PageParamsDep,
    filters: Annotated[TimeEntryFilters, Query()],
    sort: TimeEntrySort = TimeEntrySort.START_AT_DESC,
) -> Page[TimeEntryRead]:
    result = await entries.list(page, SORTS[sort], entries.filtered(filters))
    return page_of(TimeEntryRead, result, context=access.read_context)


@router.post(
    "",
    status_code=201,
    summary="Create a time entry",
    description="With `end_at` a finished entry; without, a running one (409 if one runs).",
    responses=responses(403, 409, 422),
)
async def create_time_entry(
    body: TimeEntryCreate, access: WorkspaceMember, tracking: Tracking, response: Response
) -> TimeEntryRead:
    return render(await tracking.create(body), access, response)


@router.patch(
    "",
    summary="Change many time entries",
    description="Applies the same changes to each entry; every id gets its own result.",
    responses=responses(422),
)
async def bulk_update_time_entries(
    body: TimeEntryBulkUpdate, access: WorkspaceMember, tracking: Tracking
) -> TimeEntryBulkResults:
    return bulk_results(await tracking.bulk_update(body.ids, body.changes), access)


@router.delete(
    "",
    summary="Delete many time entries",
    description="Every id gets its own result.",
    responses=responses(422),
)
async def bulk_delete_time_entries(
    ids: Annotated[BulkIds, Query()], access: WorkspaceMember, tracking: Tracking
) -> TimeEntryBulkResults:
    return bulk_results(await tracking.bulk_delete(ids), access)


@router.get("/{entry_id}", summary="Get a time entry")
async def get_time_entry(
    entry_id: uuid.UUID, access: WorkspaceMember, entries: Entries, response: Response
) -> TimeEntryRead:
    return render(await entries.get(entry_id, include_deleted=True), access, response)


@router.patch("/{entry_id}", summary="Update a time entry", responses=responses(403, 409, 412, 422))
async def update_time_entry(
    entry_id: uuid.UUID,
    body: TimeEntryUpdate,
    access: WorkspaceMember,
    entries: Entries,
    tracking: Tracking,
    response: Response,
    if_match: IfMatch = None,
) -> TimeEntryRead:
    entry = await entries.get(entry_id)
    check_if_match(if_match, entry)
    return render(await tracking.update(entry, body), access, response)


@router.delete(
    "/{entry_id}", status_code=204, summary="Delete a time entry", responses=responses(412)
)
async def delete_time_entry(
    entry_id: uuid.UUID, entries: Entries, if_match: IfMatch = None
) -> None:
    entry = await entries.get(entry_id)
    check_if_match(if_match, entry)
    await entries.soft_delete(entry)


@router.post(
    "/{entry_id}/restore",
    summary="Restore a deleted time entry",
    responses=responses(409),
)
async def restore_time_entry(
    entry_id: uuid.UUID,
    access: WorkspaceMember,
    entries: Entries,
    tracking: Tracking,
    response: Response,
) -> TimeEntryRead:
    entry = await entries.get(entry_id, include_deleted=True)
    return render(await tracking.restore(entry), access, response)
