"""Placeholder members: people an import names who have no account yet. Each is an
inactive account (it can sign in once given a password) and a member of the importing
workspace. An existing account joins only by accepting an invitation, so a file can never
make someone a member of a workspace."""

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Membership, User
from app.enums import Role
from app.repositories.users import UserRepository


async def add_placeholder(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    email: str,
    full_name: str,
    hourly_rate_cents: int | None = None,
) -> Membership | None:
    """The new placeholder member for `email`, or None if an account has that email."""
    taken = select(User.id).where(User.email == email)
    if (await session.scalars(taken)).first() is not None:
        return None
    user = await UserRepository(session).add_placeholder(email, full_name=full_name)
    membership = Membership(
        workspace_id=workspace_id,
        user_id=user.id,
        role=Role.MEMBER,
        hourly_rate_cents=hourly_rate_cents,
    )
    session.add(membership)
    await session.flush()
    return membership
