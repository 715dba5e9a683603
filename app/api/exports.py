"""Exports of time entries, streamed: native CSV, Toggl's detailed CSV, or JSON."""

from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import StreamingResponse

from app.api.deps import WorkspaceCaller, workspace_router
from app.api.problems import responses
from app.repositories.time_entries import EntryFilters
from app.schemas.time_entries import TimeEntryFilters
from app.services import policies
from app.services.exports import (
    MEDIA_TYPES,
    ExportFormat,
    ExportScope,
    export_entries,
    export_filename,
)

# Before the time-entry routes, so that "export" is not read as an entry's id.
router = workspace_router("time-entries/export", tag="time-entries")


@router.get(
    "",
    summary="Export time entries",
    description=(
        "The entries the list would show for the same filters, oldest first, as a download: "
        "`csv` (every field needed to import them again), `toggl_csv` (Toggl's detailed "
        "report columns, dates and times in your timezone) or `json`. Streamed in batches."
    ),
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The export file.",
            "content": {media_type: {} for media_type in dict.fromkeys(MEDIA_TYPES.values())},
            "headers": {
                "Content-Disposition": {
                    "description": 'Names the file: `attachment; filename="<name>"`.',
                    "schema": {"type": "string"},
                }
            },
        },
        **responses(422),
    },
)
async def export_time_entries(
    request: Request,
    caller: WorkspaceCaller,
    filters: Annotated[TimeEntryFilters, Query()],
    format: Annotated[ExportFormat, Query(description="The file's format.")] = ExportFormat.CSV,
) -> StreamingResponse:
    workspace = caller.current_workspace()
    scope = ExportScope(
        workspace=workspace,
        viewer_id=policies.entry_viewer(caller),
        shows_rates=policies.may_see_rates(caller),
        timezone=caller.user.timezone,
    )
    criteria = EntryFilters(**filters.model_dump(exclude={"include_deleted"}))
    # The request's unit of work ends before the body is sent: the export reads on
    # sessions of its own.
    chunks = export_entries(request.app.state.sessions, scope, criteria, format)
    filename = export_filename(workspace, format)
    return StreamingResponse(
        chunks,
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
