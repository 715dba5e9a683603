import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from app.db.models import Membership, Workspace
from app.enums import Role
from app.pagination import PageParams, PageResult, SortKey, paginate
from app.repositories.base import Repository

BY_JOINING_ORDER = SortKey(Membership.created_at, Membership.id)


class WorkspaceRepository(Repository[Workspace]):
    model = Workspace
    not_found_detail = "Workspace not found."

    async def get_membership(
        self, workspace_id: uuid.UUID, user_id: uuid.UUID
    ) -> tuple[Workspace, Membership] | None:
        """The live workspace and the user's membership in it, in one query."""
        statement = (
            select(Workspace, Membership)
            .join(Membership, Membership.workspace_id == Workspace.id)
            .where(
                Workspace.id == workspace_id,
                Workspace.deleted_at.is_(None),
                Membership.user_id == user_id,
            )
        )
        row = (await self.session.execute(statement)).one_or_none()
        return (row[0], row[1]) if row else None

    async def memberships_of(
        self, user_id: uuid.UUID, params: PageParams
    ) -> PageResult[Membership]:
        """One page of the user's memberships in live workspaces, each with its workspace."""
        statement = (
            select(Membership)
            .join(Membership.workspace)
            .where(Membership.user_id == user_id, Workspace.deleted_at.is_(None))
            .options(contains_eager(Membership.workspace))
        )
        return await paginate(self.session, statement, BY_JOINING_ORDER, params)

    async def create_owned(
        self, owner_id: uuid.UUID, values: dict[str, Any]
    ) -> tuple[Workspace, Membership]:
        workspace = Workspace(owner_user_id=owner_id, **values)
        membership = Membership(workspace=workspace, user_id=owner_id, role=Role.OWNER)
        async with self.guard():
            self.session.add_all([workspace, membership])
        return workspace, membership

    async def transfer_ownership(
        self, workspace: Workspace, previous: Membership, successor: Membership
    ) -> None:
        """Make `successor` the owner; the previous owner stays on as an admin."""
        async with self.guard():
            workspace.owner_user_id = successor.user_id
            successor.role = Role.OWNER
            previous.role = Role.ADMIN
