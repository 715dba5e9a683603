"""Invitations, seen from the workspace that sends them and from the person who receives them.

Both sides read pending invitations only: an answered one is history, and acting on it again
finds nothing.
"""

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import contains_eager

from app.db.models import Invitation, Workspace
from app.enums import InvitationStatus
from app.pagination import SortKey
from app.repositories.base import Repository, ScopedRepository

BY_SENDING_ORDER = SortKey(Invitation.created_at, Invitation.id)
_PENDING = Invitation.status == InvitationStatus.PENDING


class InvitationRepository(ScopedRepository[Invitation]):
    """The pending invitations one workspace has sent."""

    model = Invitation
    conflict_detail = "This email already has a pending invitation to the workspace."
    not_found_detail = "Invitation not found."

    def scope(self, statement: Select[tuple[Invitation]]) -> Select[tuple[Invitation]]:
        return super().scope(statement).where(_PENDING)


class ReceivedInvitationRepository(Repository[Invitation]):
    """The pending invitations to one email from live workspaces, each with its workspace."""

    model = Invitation
    not_found_detail = "Invitation not found."

    def __init__(self, session: AsyncSession, email: str) -> None:
        super().__init__(session)
        self.email = email.lower()

    def scope(self, statement: Select[tuple[Invitation]]) -> Select[tuple[Invitation]]:
        return (
            statement.join(Invitation.workspace)
            .where(_PENDING, Invitation.email == self.email, Workspace.deleted_at.is_(None))
            .options(contains_eager(Invitation.workspace))
        )
