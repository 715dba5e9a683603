"""Workspaces and their members.

A workspace has one owner: `Workspace.owner_user_id`, whose membership holds the role
`owner`; no one else does (a unique index says so). The owner can be neither removed nor
demoted; they hand the workspace over, and stay on as an admin.
"""

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Membership, Workspace
from app.enums import Role
from app.errors import Conflict, InvalidInput
from app.repositories.memberships import MembershipRepository
from app.repositories.project_members import ProjectMemberRepository
from app.repositories.users import UserRepository
from app.repositories.workspaces import WorkspaceRepository
from app.services import policies
from app.services.caller import Caller

OWNER_STAYS = (
    "The workspace's owner can be neither removed nor demoted; hand the workspace over first."
)
ONE_OWNER = "A workspace has one owner; hand it over with transfer-ownership instead."


class WorkspaceService:
    def __init__(self, session: AsyncSession, caller: Caller) -> None:
        self.session = session
        self.caller = caller
        self.workspaces = WorkspaceRepository(session)

    async def create(self, values: dict[str, Any]) -> Caller:
        """A new workspace owned by the caller; returns the caller standing in it."""
        workspace = await self.workspaces.create(owner_user_id=self.caller.user_id, **values)
        membership = await MembershipRepository(self.session, workspace.id).add(
            self.caller.user, role=Role.OWNER
        )
        return self.caller.in_workspace(workspace, membership)

    async def update(self, changes: dict[str, Any]) -> Workspace:
        policies.require_admin(self.caller)
        return await self.workspaces.update(self.caller.current_workspace(), changes)

    async def delete(self) -> None:
        policies.require_owner(self.caller)
        await self.workspaces.soft_delete(self.caller.current_workspace())

    async def transfer_ownership(self, user_id: uuid.UUID) -> Caller:
        """Make another member the owner; the caller stays on as an admin."""
        policies.require_owner(self.caller)
        workspace = self.caller.current_workspace()
        members = MembershipRepository(self.session, workspace.id)
        successor = await members.find_by_user(user_id)
        if successor is None or successor.user_id == self.caller.user_id:
            raise InvalidInput(
                "The new owner must be another member of the workspace.", field="user_id"
            )
        previous = self.caller.current_membership()
        # The previous owner steps down first: the index allows one owner at a time.
        await members.update(previous, {"role": Role.ADMIN})
        await members.update(successor, {"role": Role.OWNER})
        await self.workspaces.update(workspace, {"owner_user_id": successor.user_id})
        return self.caller.in_workspace(workspace, previous)

    # Members

    def _members(self) -> MembershipRepository:
        return MembershipRepository(self.session, self.caller.current_workspace().id)

    async def add_member(self, email: str, role: Role, hourly_rate_cents: int | None) -> Membership:
        policies.may_manage_member(self.caller, None, role)
        if role is Role.OWNER:
            raise InvalidInput(ONE_OWNER, field="role")
        user = await UserRepository(self.session).get_by_email(email)
        if user is None or not user.is_active:
            raise InvalidInput("There is no active account with this email.", field="email")
        return await self._members().add(user, role=role, hourly_rate_cents=hourly_rate_cents)

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
        """Remove the member, and with them their access to the workspace's private projects."""
        policies.may_remove_member(self.caller, membership.user_id, membership.role)
        if membership.role is Role.OWNER:
            raise Conflict(OWNER_STAYS)
        workspace_id = self.caller.current_workspace().id
        await ProjectMemberRepository(self.session, workspace_id).delete_for_user(
            membership.user_id
        )
        await self._members().delete(membership)
