import uuid

from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from app.db.models import Membership, User, Workspace
from app.pagination import PageParams, PageResult, paginate
from app.repositories.base import Repository
from app.repositories.memberships import BY_JOINING_ORDER


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

    async def owner_standing(self, workspace_id: uuid.UUID) -> tuple[User, Membership] | None:
        """The live workspace's owner and their membership."""
        statement = (
            select(User, Membership)
            .join(Membership, Membership.user_id == User.id)
            .join(Workspace, Workspace.id == Membership.workspace_id)
            .where(
                Workspace.id == workspace_id,
                Workspace.deleted_at.is_(None),
                Membership.user_id == Workspace.owner_user_id,
            )
        )
        row = (await self.session.execute(statement)).one_or_none()
        return (row[0], row[1]) if row else None

    async def ids_of(self, user_id: uuid.UUID) -> list[uuid.UUID]:
        """The live workspaces the user is a member of."""
        statement = (
            select(Workspace.id)
            .join(Membership, Membership.workspace_id == Workspace.id)
            .where(Membership.user_id == user_id, Workspace.deleted_at.is_(None))
            .order_by(Workspace.id)
        )
        return list(await self.session.scalars(statement))

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
