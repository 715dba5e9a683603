"""Shared report links: made, listed and revoked by members, opened by anyone holding one."""

import uuid
from typing import Annotated, Any

from fastapi import Depends, Path, Request, Response
from pydantic import BaseModel, ValidationError

from app.api.auth import client_address
from app.api.deps import (
    API_PREFIX,
    SettingsDep,
    UnitOfWorkDep,
    WorkspaceCaller,
    api_router,
    service,
    workspace_router,
)
from app.api.etag import editable
from app.api.filters import PageParamsDep
from app.api.problems import responses
from app.api.report_documents import shared_document
from app.api.report_files import file_content
from app.db.models import ReportShare
from app.errors import FieldProblem, InvalidInput
from app.pagination import SortKey
from app.reports import pdf, xlsx
from app.repositories.report_shares import ReportShareRepository
from app.schemas.common import Page, page_of
from app.schemas.report_documents import (
    REPORT_QUERIES,
    ReportKind,
    ReportShareCreate,
    ReportShareCreated,
    ReportShareRead,
)
from app.services import policies
from app.services.report_shares import ReportShareService, open_shared_report

router = workspace_router("reports/shares", tag="reports")
public_router = api_router(prefix=f"{API_PREFIX}/shared-reports", tags=["reports"])
Shares = Annotated[ReportShareService, Depends(service(ReportShareService))]
NEWEST_FIRST = SortKey(ReportShare.created_at, ReportShare.id, descending=True)
SHARED_PATH = "/api/v1/shared-reports/"
Secret = Annotated[
    str, Path(max_length=64, description="The link's secret, as sharing it answered.")
]


async def own_shares(caller: WorkspaceCaller, uow: UnitOfWorkDep) -> ReportShareRepository:
    """Admins see every link of the workspace; members their own."""
    return ReportShareRepository(
        uow.session, caller.current_workspace().id, viewer_id=policies.entry_viewer(caller)
    )


OwnShares = Annotated[ReportShareRepository, Depends(own_shares)]


def _query(kind: ReportKind, params: dict[str, Any]) -> BaseModel:
    """The report's own query model, or a 422 naming each wrong parameter under `params`."""
    try:
        return REPORT_QUERIES[kind].model_validate(params)
    except ValidationError as exc:
        problems = [
            FieldProblem(("params", *error["loc"]), error["msg"], error["type"])
            for error in exc.errors()
        ]
        raise InvalidInput("The report's parameters are not valid.", problems=problems) from exc


@router.post(
    "",
    status_code=201,
    summary="Share a report",
    description=(
        "A secret link showing one report (`summary`, `detailed` or `weekly`) with these "
        "parameters to anyone who holds it, read live at each visit with your rights: a "
        "member's link shows their own time. The secret is in this answer only. "
        "`show_amounts` needs a caller who sees rates (403 otherwise)."
    ),
    responses=responses(403, 422),
)
async def share_report(body: ReportShareCreate, shares: Shares) -> ReportShareCreated:
    query = _query(body.report, body.params)
    stored = query.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    share, secret = await shares.share(
        body.report, stored, expires_at=body.expires_at, show_amounts=body.show_amounts
    )
    read = ReportShareRead.model_validate(share)
    return ReportShareCreated(**read.model_dump(), secret=secret, url=SHARED_PATH + secret)


@router.get(
    "",
    summary="List shared reports",
    description="Links not revoked, newest first, expired ones included; never their "
    "secrets. Admins see every link of the workspace, members their own.",
    responses=responses(422),
)
async def list_shares(shares: OwnShares, page: PageParamsDep) -> Page[ReportShareRead]:
    listed = shares.select().where(ReportShare.revoked_at.is_(None))
    return page_of(ReportShareRead, await shares.list(page, NEWEST_FIRST, listed))


async def live_share(share_id: uuid.UUID, shares: OwnShares) -> ReportShare:
    return await shares.get(share_id)


@router.delete(
    "/{share_id}",
    status_code=204,
    summary="Revoke a shared report",
    description="The link answers 404 from now on. Admins revoke any, members their own.",
    responses=responses(412),
)
async def revoke_share(
    share: Annotated[ReportShare, Depends(editable(live_share))], service: Shares
) -> None:
    await service.revoke(share)


async def _visit(
    request: Request, uow: UnitOfWorkDep, settings: SettingsDep, secret: str, extension: str
) -> Any:
    share, sharer = await open_shared_report(
        uow, settings, secret, client_ip=client_address(request)
    )
    kind = ReportKind(share.report)
    return await shared_document(
        uow.session,
        request.app.state.sessions,
        sharer,
        kind,
        REPORT_QUERIES[kind].model_validate(share.params),
        extension,
        show_amounts=share.show_amounts and policies.may_see_rates(sharer),
    )


_PUBLIC_DESCRIPTION = (
    "No account needed: the secret is the access. The report is read now, with the stored "
    "parameters and the rights of who shared it. An unknown, expired or revoked link is a "
    "404 alike. Visits are limited per client address (`SHARED_REPORT_MAX_PER_ADDRESS` per "
    "`SHARED_REPORT_WINDOW_SECONDS`, known links or not); beyond that a 429."
)
_FILE = {
    "description": "The report as a file.",
    "headers": {
        "Content-Disposition": {
            "description": 'Names the file: `attachment; filename="<name>"`.',
            "schema": {"type": "string"},
        }
    },
}


# The file routes first: `{secret}` alone would also match `secret.pdf`.
@public_router.get(
    "/{secret}.pdf",
    summary="Open a shared report as PDF",
    description=_PUBLIC_DESCRIPTION,
    response_class=Response,
    responses={200: {**_FILE, "content": {pdf.MEDIA_TYPE: {}}}, **responses(404, 429)},
)
async def shared_report_pdf(
    secret: Secret, request: Request, uow: UnitOfWorkDep, settings: SettingsDep
) -> Response:
    return await _visit(request, uow, settings, secret, "pdf")


@public_router.get(
    "/{secret}.xlsx",
    summary="Open a shared report as a spreadsheet",
    description=_PUBLIC_DESCRIPTION,
    response_class=Response,
    responses={200: {**_FILE, "content": {xlsx.MEDIA_TYPE: {}}}, **responses(404, 429)},
)
async def shared_report_xlsx(
    secret: Secret, request: Request, uow: UnitOfWorkDep, settings: SettingsDep
) -> Response:
    return await _visit(request, uow, settings, secret, "xlsx")


@public_router.get(
    "/{secret}",
    summary="Open a shared report",
    description=_PUBLIC_DESCRIPTION + " The JSON is the report's own route's.",
    responses={**file_content("application/json"), **responses(404, 429)},
)
async def shared_report(
    secret: Secret, request: Request, uow: UnitOfWorkDep, settings: SettingsDep
) -> dict[str, Any]:
    result = await _visit(request, uow, settings, secret, "json")
    return result.model_dump(mode="json")
