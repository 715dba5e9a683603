"""Workspaces, their members, and the invitations that make members.

A workspace has one owner: `Workspace.owner_user_id`, whose membership holds the role
`owner`; no one else does (a unique index says so). The owner can be neither removed nor
demoted; they hand the workspace over, and stay on as an admin.

Nobody is made a member without saying yes: admins invite an email, and the person who
signs in with it accepts or declines. An invitation says nothing about whether an account
has that email, so inviting cannot be used to look people up.
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Invitation, Membership, User, Workspace
from app.db.types import utcnow
from app.enums import InvitationStatus, Role
from app.errors import Conflict, InvalidInput
from app.repositories.base import Repository
from app.repositories.invitations import InvitationRepository, ReceivedInvitationRepository
from app.repositories.memberships import MembershipRepository
from app.repositories.project_members import ProjectMemberRepository
from app.repositories.time_entries import RunningEntryRepository, TimeEntryRepository
from app.repositories.users import UserRepository
from app.repositories.workspaces import WorkspaceRepository
from app.services import closed_time, policies
from app.services.caller import Caller

OWNER_STAYS = (
    "The workspace's owner can be neither removed nor demoted; hand the workspace over first."
)
ONE_OWNER = "A workspace has one owner; hand it over with transfer-ownership instead."
ALREADY_MEMBER = "This email belongs to a member of the workspace already."


class WorkspaceService:
    def __init__(self, session: AsyncSession, caller: Caller) -> None:
        self.session = session
        self.caller = caller
        self.workspaces = WorkspaceRepository(session)

    async def create(self, values: dict[str, Any]) -> Caller:
        """A new workspace owned by the caller; returns the caller standing in it."""
        workspace = await self.workspaces.create(owner_user_id=self.caller.user_id, **values)
        membership = await MembershipRepository(self.session, workspace.id).add(
            await self._account(), role=Role.OWNER
        )
        return self.caller.in_workspace(workspace, membership)

    async def _account(self) -> User:
        """The caller's account as a row to link to (the caller holds a plain read of it)."""
        return await UserRepository(self.session).get(self.caller.user_id)

    async def _workspace(self) -> Workspace:
        """The caller's workspace to change (the caller holds a plain read of it)."""
        return await self.workspaces.get(self.caller.current_workspace().id)

    async def update(self, changes: dict[str, Any]) -> Workspace:
        policies.require_admin(self.caller)
        workspace = await self._workspace()
        if "locked_before" in changes and changes["locked_before"] != workspace.locked_before:
            await self._close_time_before(changes["locked_before"])
        return await self.workspaces.update(workspace, changes)

    async def _close_time_before(self, locked_before: datetime | None) -> None:
        """Let `locked_before` move: first lock everyone whose time it closes or reopens,
        so that no write of their entries runs across the move, then refuse to close a
        running entry's start (a timer never runs inside closed time)."""
        workspace_id = self.caller.current_workspace().id
        entries = TimeEntryRepository(self.session, workspace_id)
        await entries.lock_users(await entries.user_ids())
        if locked_before is None:
            return
        running = await entries.running_before(locked_before)
        if running:
            names = ", ".join(str(entry_id) for entry_id in running)
            raise Conflict(
                f"Time entries run from before {locked_before.isoformat()}: {names}. "
                "Stop them before closing their time."
            )

    async def delete(self) -> None:
        policies.require_owner(self.caller)
        await self.workspaces.soft_delete(await self._workspace())

    async def transfer_ownership(self, user_id: uuid.UUID) -> Caller:
        """Make another member the owner; the caller stays on as an admin."""
        policies.require_owner(self.caller)
        workspace = await self._workspace()
        members = MembershipRepository(self.session, workspace.id)
        successor = await members.find_by_user(user_id)
        if successor is None or successor.user_id == self.caller.user_id:
            raise InvalidInput(
                "The new owner must be another member of the workspace.", field="user_id"
            )
        previous = await members.get(self.caller.current_membership().id)
        # The previous owner steps down first: the index allows one owner at a time.
        await members.update(previous, {"role": Role.ADMIN})
        await members.update(successor, {"role": Role.OWNER})
        await self.workspaces.update(workspace, {"owner_user_id": successor.user_id})
        return self.caller.in_workspace(workspace, previous)

    # Members

    def _members(self) -> MembershipRepository:
        return MembershipRepository(self.session, self.caller.current_workspace().id)

    async def update_member(self, membership: Membership, changes: dict[str, Any]) -> Membership:
        new_role = changes.get("role")
        policies.may_manage_member(self.caller, membership.role, new_role)
        if "role" in changes and new_role != membership.role:
            if membership.role is Role.OWNER:
                raise Conflict(OWNER_STAYS)
            if new_role is Role.OWNER:
                raise InvalidInput(ONE_OWNER, field="role")
        return await self._members().update(membership, changes)

    async def remove_member(self, membership: Membership) -> None:
        """Remove the member, and with them their access to the workspace's private projects.

        Their entry running here stops now: it would otherwise keep running in a workspace
        they can no longer reach, and block their timer everywhere else.
        """
        policies.may_remove_member(self.caller, membership.user_id, membership.role)
        if membership.role is Role.OWNER:
            raise Conflict(OWNER_STAYS)
        workspace_id = self.caller.current_workspace().id
        await TimeEntryRepository(self.session, workspace_id).lock_users({membership.user_id})
        running = RunningEntryRepository(self.session)
        entry = await running.get_for_user(membership.user_id)
        if entry is not None and entry.workspace_id == workspace_id:
            closed = await closed_time.load(
                self.session, workspace_id, self.caller.user_id, {entry.user_id}, {entry.start_at}
            )
            closed.check(entry.user_id, entry.start_at)
            await running.update(entry, {"end_at": utcnow()})
        await ProjectMemberRepository(self.session, workspace_id).delete_for_user(
            membership.user_id
        )
        await self._members().delete(membership)

    # Invitations, as the workspace sends them

    def _invitations(self) -> InvitationRepository:
        return InvitationRepository(self.session, self.caller.current_workspace().id)

    async def invite(self, email: str, role: Role, hourly_rate_cents: int | None) -> Invitation:
        """A pending invitation for `email`, whoever has it; a second one while the first is
        pending is a conflict (the unique index decides, also between concurrent requests)."""
        policies.may_manage_member(self.caller, None, role)
        if role is Role.OWNER:
            raise InvalidInput(ONE_OWNER, field="role")
        email = email.lower()
        # Members are listed with their emails to everyone in the workspace: this tells
        # the admin nothing new.
        if await self._members().find_by_email(email) is not None:
            raise Conflict(ALREADY_MEMBER)
        return await self._invitations().create(
            email=email,
            role=role,
            hourly_rate_cents=hourly_rate_cents,
            invited_by_user_id=self.caller.user_id,
        )

    async def revoke_invitation(self, invitation: Invitation) -> None:
        policies.may_manage_member(self.caller, None, invitation.role)
        await self._answer(self._invitations(), invitation, InvitationStatus.REVOKED)

    # Invitations, as their invitee answers them: the caller acts in no workspace yet.

    def _received(self) -> ReceivedInvitationRepository:
        return ReceivedInvitationRepository(self.session, self.caller.user.email)

    async def accept_invitation(self, invitation_id: uuid.UUID) -> Caller:
        """Join the workspace with the invitation's role and rate; returns the caller standing
        in it. Only an invitation to the caller's own email is found."""
        received = self._received()
        invitation = await received.get(invitation_id)
        members = MembershipRepository(self.session, invitation.workspace_id)
        if await members.find_by_user(self.caller.user_id) is not None:
            raise Conflict("You are a member of this workspace already; decline the invitation.")
        # Answered first: a revocation that landed meanwhile fails this acceptance whole.
        await self._answer(received, invitation, InvitationStatus.ACCEPTED)
        membership = await members.add(
            await self._account(),
            role=invitation.role,
            hourly_rate_cents=invitation.hourly_rate_cents,
        )
        return self.caller.in_workspace(invitation.workspace, membership)

    async def decline_invitation(self, invitation_id: uuid.UUID) -> None:
        received = self._received()
        invitation = await received.get(invitation_id)
        await self._answer(received, invitation, InvitationStatus.DECLINED)

    @staticmethod
    async def _answer(
        invitations: Repository[Invitation],
        invitation: Invitation,
        status: InvitationStatus,
    ) -> None:
        await invitations.update(invitation, {"status": status, "answered_at": utcnow()})
