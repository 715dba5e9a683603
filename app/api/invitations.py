"""Invitations: how people join a workspace.

Admins invite an email; the answer is the same whether or not anyone has an account with it.
The person who signs in with that email sees the invitation under /users/me/invitations and
accepts it (only then are they a member) or declines it. A second invitation to an email
with one pending is a 409; revoke the first to change its role or rate.
"""

import uuid
from typing import Annotated

from fastapi import Depends, Response

from app.api.deps import (
    CurrentCaller,
    SessionDep,
    WorkspaceAdmin,
    authenticated_router,
    read_context,
    scoped,
    workspace_router,
)
from app.api.etag import editable, respond
from app.api.filters import PageParamsDep
from app.api.problems import responses
from app.api.workspaces import NewWorkspaces, ThisWorkspace, respond_with
from app.db.models import Invitation
from app.repositories.invitations import (
    BY_SENDING_ORDER,
    InvitationRepository,
    ReceivedInvitationRepository,
)
from app.schemas.common import Page, page_of
from app.schemas.invitations import InvitationCreate, InvitationRead, ReceivedInvitationRead
from app.schemas.workspaces import WorkspaceRead

TAG = "invitations"
router = workspace_router("invitations", tag=TAG)
me_router = authenticated_router("/users/me/invitations", TAG)
Invitations = Annotated[InvitationRepository, Depends(scoped(InvitationRepository))]


async def invitation_in_path(invitation_id: uuid.UUID, invitations: Invitations) -> Invitation:
    return await invitations.get(invitation_id)


EditedInvitation = Annotated[Invitation, Depends(editable(invitation_in_path))]


@router.get(
    "",
    summary="List pending invitations",
    description="The workspace's invitations not yet accepted, declined or revoked; admins only.",
    responses=responses(403, 422),
)
async def list_invitations(
    caller: WorkspaceAdmin, invitations: Invitations, page: PageParamsDep
) -> Page[InvitationRead]:
    result = await invitations.list(page, BY_SENDING_ORDER)
    return page_of(InvitationRead, result, context=read_context(caller))


@router.post(
    "",
    status_code=201,
    summary="Invite someone by email",
    description="The invitation names no account, and the answer is the same whether or not "
    "one has this email. Whoever signs in with it may accept; 409 while one is pending, or "
    "when a member has this email.",
    responses=responses(403, 409, 422),
)
async def invite(
    body: InvitationCreate, caller: WorkspaceAdmin, workspace: ThisWorkspace, response: Response
) -> InvitationRead:
    invitation = await workspace.invite(body.email, body.role, body.hourly_rate_cents)
    return respond(response, InvitationRead, invitation, caller)


@router.delete(
    "/{invitation_id}",
    status_code=204,
    summary="Revoke an invitation",
    description="Withdraws a pending invitation; its email may then be invited again.",
    responses=responses(403, 412),
)
async def revoke_invitation(invitation: EditedInvitation, workspace: ThisWorkspace) -> None:
    await workspace.revoke_invitation(invitation)


@me_router.get(
    "",
    summary="List my invitations",
    description="Pending invitations to the email of the caller's account.",
    responses=responses(422),
)
async def list_my_invitations(
    caller: CurrentCaller, session: SessionDep, page: PageParamsDep
) -> Page[ReceivedInvitationRead]:
    received = ReceivedInvitationRepository(session, caller.user.email)
    return page_of(ReceivedInvitationRead, await received.list(page, BY_SENDING_ORDER))


@me_router.post(
    "/{invitation_id}/accept",
    summary="Accept an invitation",
    description="Makes the caller a member with the invitation's role; returns the workspace.",
    responses=responses(404, 409),
)
async def accept_invitation(
    invitation_id: uuid.UUID, workspaces: NewWorkspaces, response: Response
) -> WorkspaceRead:
    return respond_with(response, await workspaces.accept_invitation(invitation_id))


@me_router.post(
    "/{invitation_id}/decline",
    status_code=204,
    summary="Decline an invitation",
    description="The caller turns the invitation down; nothing else changes.",
    responses=responses(404),
)
async def decline_invitation(invitation_id: uuid.UUID, workspaces: NewWorkspaces) -> None:
    await workspaces.decline_invitation(invitation_id)
