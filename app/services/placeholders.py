"""Placeholder members: people an import names who have no account yet. Each is an
inactive account (it can sign in once given a password) and a member of the importing
workspace. An existing account joins only by accepting an invitation, so a file can never
make someone a member of a workspace."""

import secrets
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Membership, User
from app.enums import Role
from app.security import hash_password


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
    user = User(
        email=email,
        full_name=full_name,
        password_hash=await hash_password(secrets.token_urlsafe(32)),
        is_active=False,
    )
    session.add(user)
    await session.flush()
    membership = Membership(
        workspace_id=workspace_id,
        user_id=user.id,
        role=Role.MEMBER,
        hourly_rate_cents=hourly_rate_cents,
    )
    session.add(membership)
    await session.flush()
    return membership
