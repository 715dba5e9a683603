"""Approvals: periods of time submitted, decided, withdrawn and reopened.

Members submit and withdraw their own periods and see only those; admins and the owner see
everyone's and decide. Each move is a POST on the approval, answered with it as it is now.
"""

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
from app.api.etag import respond
from app.api.filters import PageParamsDep
from app.api.problems import responses
from app.db.models import Approval
from app.repositories.approvals import BY_PERIOD, ApprovalFilters, ApprovalRepository
from app.schemas.approvals import (
    ApprovalCreate,
    ApprovalDecision,
    ApprovalFilterQuery,
    ApprovalRead,
    ApprovalRejection,
)
from app.schemas.common import Page, page_of
from app.services import policies
from app.services.approvals import ApprovalService

router = workspace_router("approvals", tag="approvals")
Approvals = Annotated[ApprovalService, Depends(service(ApprovalService))]


async def readable_approvals(caller: WorkspaceCaller, uow: UnitOfWorkDep) -> ApprovalRepository:
    """Everyone's approvals for admins, their own for members."""
    workspace_id = caller.current_workspace().id
    return ApprovalRepository(uow.session, workspace_id, viewer_id=policies.entry_viewer(caller))


Readable = Annotated[ApprovalRepository, Depends(readable_approvals)]


async def approval_in_path(approval_id: uuid.UUID, approvals: Readable) -> Approval:
    return await approvals.get(approval_id)


ApprovalInPath = Annotated[Approval, Depends(approval_in_path)]


@router.post(
    "",
    status_code=201,
    summary="Submit a period",
    description="Submits a period of your own time, dates in your timezone with the end "
    "excluded (`2026-11-02` to `2026-11-09` is a week), up to 366 days. Its entries are then "
    "closed to you until it is decided or withdrawn. 409 when it overlaps another submitted "
    "or approved period of yours, or when an entry of yours runs inside it.",
    responses=responses(409, 422),
)
async def submit_period(
    body: ApprovalCreate, caller: WorkspaceCaller, approvals: Approvals, response: Response
) -> ApprovalRead:
    approval = await approvals.submit(body.period_start, body.period_end)
    return respond(response, ApprovalRead, approval, caller)


@router.get(
    "",
    summary="List approvals",
    description="Newest period first. Members see their own, admins everyone's.",
    responses=responses(422),
)
async def list_approvals(
    caller: WorkspaceCaller,
    approvals: Readable,
    page: PageParamsDep,
    filters: Annotated[ApprovalFilterQuery, Query()],
) -> Page[ApprovalRead]:
    statement = approvals.search(
        ApprovalFilters(
            user_id=tuple(filters.user_id),
            state=tuple(filters.state),
            period_from=filters.period_from,
            period_to=filters.period_to,
        )
    )
    result = await approvals.list(page, BY_PERIOD, statement)
    return page_of(ApprovalRead, result, context=read_context(caller))


@router.get(
    "/{approval_id}",
    summary="Get an approval",
    description="Members get their own, admins anyone's.",
)
async def get_approval(
    caller: WorkspaceCaller, approval: ApprovalInPath, response: Response
) -> ApprovalRead:
    return respond(response, ApprovalRead, approval, caller)


@router.post(
    "/{approval_id}/approve",
    summary="Approve a period",
    description="Admins and the owner, on a submitted period (not their own, but for the "
    "owner). Its totals are kept as they are now, and its time closes to everyone.",
    responses=responses(403, 409),
)
async def approve_period(
    caller: WorkspaceCaller,
    approval: ApprovalInPath,
    approvals: Approvals,
    response: Response,
    body: ApprovalDecision | None = None,
) -> ApprovalRead:
    decided = await approvals.approve(approval, body.note if body else "")
    return respond(response, ApprovalRead, decided, caller)


@router.post(
    "/{approval_id}/reject",
    summary="Reject a period",
    description="Admins and the owner, on a submitted period, with a note saying why. Its "
    "totals are kept as they are now, and its time opens again.",
    responses=responses(403, 409, 422),
)
async def reject_period(
    body: ApprovalRejection,
    caller: WorkspaceCaller,
    approval: ApprovalInPath,
    approvals: Approvals,
    response: Response,
) -> ApprovalRead:
    decided = await approvals.reject(approval, body.note)
    return respond(response, ApprovalRead, decided, caller)


@router.post(
    "/{approval_id}/withdraw",
    summary="Withdraw a period",
    description="The person who submitted it, while it waits for a decision; its time opens again.",
    responses=responses(403, 409),
)
async def withdraw_period(
    caller: WorkspaceCaller, approval: ApprovalInPath, approvals: Approvals, response: Response
) -> ApprovalRead:
    return respond(response, ApprovalRead, await approvals.withdraw(approval), caller)


@router.post(
    "/{approval_id}/reopen",
    summary="Reopen an approved period",
    description="Admins and the owner. The period's time opens again; the approval keeps the "
    "totals it was approved with, and the event log who reopened it.",
    responses=responses(403, 409),
)
async def reopen_period(
    caller: WorkspaceCaller,
    approval: ApprovalInPath,
    approvals: Approvals,
    response: Response,
    body: ApprovalDecision | None = None,
) -> ApprovalRead:
    reopened = await approvals.reopen(approval, body.note if body else "")
    return respond(response, ApprovalRead, reopened, caller)
