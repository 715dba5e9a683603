"""A whole workspace as one file: the owner's full export, and its restore into a new
workspace (on this instance or another, on either database)."""

from typing import Annotated

from fastapi import File, Form, Request, Response, UploadFile
from fastapi.responses import StreamingResponse

from app.api.deps import (
    API_PREFIX,
    CurrentCaller,
    SessionDep,
    SettingsDep,
    WorkspaceOwner,
    authenticated_router,
    workspace_router,
)
from app.api.problems import responses
from app.api.workspaces import workspace_read
from app.config import Settings
from app.errors import Conflict, TooLarge
from app.repositories.workspaces import WorkspaceRepository
from app.schemas.common import Name
from app.schemas.workspaces import WorkspaceRestoreRead
from app.services.archive import MEDIA_TYPE, archive_filename, export_workspace, read_archive
from app.services.restore import RestoreOptions, restore_workspace

TAG = "workspaces"
export_router = workspace_router("export/full", tag=TAG)
restore_router = authenticated_router("/workspaces/import", TAG)

# What a multipart body holds besides the file: the form's other fields and boundaries.
_FORM_OVERHEAD_BYTES = 64 * 1024
_RESTORE_PATH = f"{API_PREFIX}/workspaces/import"


def restore_body_limit(method: str, path: str, settings: Settings) -> int | None:
    """The body limit of an archive's upload (that of an import's), or None if the request
    is none."""
    if method == "POST" and path == _RESTORE_PATH:
        return settings.import_max_bytes + _FORM_OVERHEAD_BYTES
    return None


@export_router.get(
    "",
    summary="Export the whole workspace",
    description=(
        "Owners only. A ZIP of JSON Lines, one file per kind (the workspace's settings, "
        "the people it names, members, pending invitations, clients, projects, project "
        "members, tasks, tags, time entries with their tags, approvals, webhooks and "
        "events) and `manifest.json` with the format's version, the counts and each file's "
        "SHA-256. Restore it with `POST /workspaces/import` here or on another instance. "
        "Secrets stay behind: webhooks travel without theirs (restored disabled, with a new "
        "one), shared report links and API tokens not at all. Streamed."
    ),
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The archive.",
            "content": {MEDIA_TYPE: {}},
            "headers": {
                "Content-Disposition": {
                    "description": 'Names the file: `attachment; filename="<name>"`.',
                    "schema": {"type": "string"},
                }
            },
        },
        **responses(403),
    },
)
async def export_workspace_archive(request: Request, caller: WorkspaceOwner) -> StreamingResponse:
    workspace_id = caller.current_workspace().id
    # The request's unit of work ends before the body is sent: the export reads on
    # sessions of its own.
    chunks = export_workspace(request.app.state.sessions, workspace_id)
    filename = archive_filename(workspace_id)
    return StreamingResponse(
        chunks,
        media_type=MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@restore_router.post(
    "",
    status_code=201,
    summary="Restore a workspace",
    description=(
        "Uploads a full export and restores it into a new workspace, which the caller owns "
        "(the exported owner, if someone else, becomes an admin). Ids are kept where they "
        "are free here and replaced where taken. People are matched by email: the caller "
        "is themselves, other people with an account here are invited with their role and "
        "rate (their time stays theirs), and people without one get an inactive "
        "placeholder account. Closed time (`locked_before`, approvals) and the event "
        "history come along; webhooks come disabled, with a new secret to rotate and read. "
        "The checksums are checked first; any bad record refuses the whole archive "
        "with a 422 listing each one as `file`, name and line. The same archive restored "
        "again creates nothing and answers 200 with the workspace made before (409 if the "
        "caller is not its member). With `dry_run` nothing is written."
    ),
    responses={200: {"description": "Restored before, or a dry run."}, **responses(409, 413, 422)},
)
async def restore_workspace_archive(
    caller: CurrentCaller,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
    file: Annotated[UploadFile, File(description="The archive, as the full export made it.")],
    name: Annotated[
        Name | None, Form(description="The new workspace's name; default: the exported one.")
    ] = None,
    dry_run: Annotated[bool, Form(description="Check and count; write nothing.")] = False,
) -> WorkspaceRestoreRead:
    if file.size is not None and file.size > settings.import_max_bytes:
        raise TooLarge(f"Uploads are limited to {settings.import_max_bytes} bytes.")
    archive = await read_archive(file.file)
    options = RestoreOptions(owner=caller.user, enrol_accounts=False, name=name)
    report = await restore_workspace(session, archive, options, dry_run=dry_run)
    workspace = None
    if not dry_run or not report.created:
        standing = await WorkspaceRepository(session).get_membership(
            report.workspace_id, caller.user_id
        )
        if standing is None:
            raise Conflict(
                "This archive was restored on this instance before, into a workspace you "
                "are not a member of."
            )
        workspace = workspace_read(caller.in_workspace(*standing))
    if dry_run or not report.created:
        response.status_code = 200
    return WorkspaceRestoreRead(
        workspace=workspace,
        source_workspace_id=report.source_workspace_id,
        created=report.created,
        dry_run=dry_run,
        counts=report.counts,
        placeholders=report.placeholders,
        invited=report.invited,
        remapped=report.remapped,
    )
