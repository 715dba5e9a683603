"""Imports: upload another tracker's export (or our own) and read what became of it."""

import re
import uuid
from typing import Annotated

from fastapi import BackgroundTasks, Depends, File, Form, Request, Response, UploadFile

from app.api.deps import (
    API_PREFIX,
    SessionDep,
    SettingsDep,
    WorkspaceAdmin,
    scoped,
    workspace_router,
)
from app.api.filters import PageParamsDep
from app.api.problems import responses
from app.config import Settings
from app.db.models import ImportRun
from app.enums import ImportFormat
from app.errors import TooLarge
from app.loader.formats import DateOrder
from app.loader.harvest import DAY_START_PATTERN, DEFAULT_DAY_START, parse_day_start
from app.pagination import SortKey
from app.repositories.import_runs import ImportRunRepository
from app.schemas.common import Page, page_of
from app.schemas.imports import ImportRunRead
from app.schemas.users import Timezone
from app.services.imports import ImportOptions, queue_upload

router = workspace_router("imports", tag="imports")
Runs = Annotated[ImportRunRepository, Depends(scoped(ImportRunRepository))]
NEWEST_FIRST = SortKey(ImportRun.created_at, ImportRun.id, descending=True)


# What a multipart body holds besides the file: the form's other fields and boundaries.
_FORM_OVERHEAD_BYTES = 64 * 1024
_UPLOAD_PATH = re.compile(rf"{API_PREFIX}/workspaces/[^/]+/imports")


def upload_body_limit(method: str, path: str, settings: Settings) -> int | None:
    """The body limit of an upload, larger than other requests', or None if the request
    is none. The app's body limit (`app.api.edge`) applies it before reading."""
    if method == "POST" and _UPLOAD_PATH.fullmatch(path):
        return settings.import_max_bytes + _FORM_OVERHEAD_BYTES
    return None


@router.post(
    "",
    status_code=202,
    summary="Import a file",
    description=(
        "Uploads a file and queues its import, which runs in the background of the server: "
        "`Location` is the run, whose `status` goes from `queued` through `running` to "
        "`succeeded` or `failed`, with its counts growing a batch at a time; a run stopped by "
        "a restart resumes after its last committed batch. Time entries: a Toggl, Clockify "
        "or Harvest detailed CSV export, or a native CSV export: users by email among the "
        "members (Harvest's by name, see the docs), clients, projects, tasks and tags by name "
        "(created when missing). The catalog: Harvest's clients or projects CSV export, or "
        "Toggl's account data ZIP: clients, projects, tasks, tags and members by name (or "
        "email), created or brought to what the file states. Rows already imported are "
        "skipped; a bad row is refused alone and listed with its line (or file and record "
        "number). With `dry_run` "
        "nothing is written but the run's record, which says what would have happened."
    ),
    responses={
        **responses(403, 413, 422),
        202: {
            "description": "Queued.",
            "headers": {
                "Location": {
                    "description": "The run's URL, to follow its progress.",
                    "schema": {"type": "string"},
                }
            },
        },
    },
)
async def create_import(
    request: Request,
    response: Response,
    background: BackgroundTasks,
    caller: WorkspaceAdmin,
    session: SessionDep,
    settings: SettingsDep,
    file: Annotated[
        UploadFile, File(description="The CSV file, or the ZIP of Toggl's account data.")
    ],
    format: Annotated[ImportFormat, Form(description="Whose export the file is.")],
    timezone: Annotated[
        Timezone | None, Form(description="Timezone of times without an offset; default: yours.")
    ] = None,
    date_format: Annotated[
        DateOrder, Form(description="Dates with slashes: mdy (US) or dmy.")
    ] = DateOrder.MONTH_FIRST,
    create_missing_members: Annotated[
        bool, Form(description="Add people the workspace does not have, instead of failing.")
    ] = False,
    day_start: Annotated[
        str,
        Form(
            description="Harvest's time report: when each person's first entry of a day "
            "starts, `HH:MM` in `timezone` (its hours have no clock times).",
            pattern=DAY_START_PATTERN,
            examples=["09:00"],
        ),
    ] = DEFAULT_DAY_START.isoformat("minutes"),
    dry_run: Annotated[bool, Form(description="Report what would happen; write nothing.")] = False,
) -> ImportRunRead:
    if file.size is not None and file.size > settings.import_max_bytes:
        raise TooLarge(f"Uploads are limited to {settings.import_max_bytes} bytes.")
    options = ImportOptions(
        source=format,
        timezone=timezone or caller.user.timezone,
        date_order=date_format,
        create_missing_members=create_missing_members,
        day_start=parse_day_start(day_start),
    )
    run = await queue_upload(
        session, caller, options, file.file, filename=file.filename or "upload.csv", dry_run=dry_run
    )
    response.headers["Location"] = str(
        request.url_for("get_import", workspace_id=run.workspace_id, import_id=run.id)
    )
    # After the response, so after the unit of work committed the run: this worker's
    # runner starts on it at once rather than at its next look.
    runner = getattr(request.app.state, "import_runner", None)
    if runner is not None:
        background.add_task(runner.wake)
    return ImportRunRead.model_validate(run)


@router.get(
    "",
    summary="List imports",
    description="Admins only. Newest first.",
    responses=responses(403, 422),
)
async def list_imports(_: WorkspaceAdmin, runs: Runs, page: PageParamsDep) -> Page[ImportRunRead]:
    return page_of(ImportRunRead, await runs.list(page, NEWEST_FIRST))


@router.get(
    "/{import_id}",
    summary="Get an import",
    description=(
        "Admins only. Where the run is and what its committed batches created, skipped and "
        "refused, row by row."
    ),
    responses=responses(403, 422),
)
async def get_import(import_id: uuid.UUID, _: WorkspaceAdmin, runs: Runs) -> ImportRunRead:
    return ImportRunRead.model_validate(await runs.get(import_id))
