"""Placeholder members: people an import names who have no account yet. Each is an
inactive account (it can sign in once given a password) and a member of the importing
workspace. An existing account joins only by accepting an invitation, so a file can never
make someone a member of a workspace."""

import re
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Membership, User
from app.enums import Role
from app.loader.formats import RowError
from app.repositories.users import UserRepository

_EMAIL = re.compile(r"^[^@\s\x00]+@[^@\s\x00]+\.[^@\s\x00]+$")
_EMAIL_LENGTH = User.__table__.c.email.type.length


def account_email(email: str) -> str:
    """`email`, in lower case, if an account can have it; RowError if not."""
    if len(email) > _EMAIL_LENGTH:
        raise RowError(f"the email is over {_EMAIL_LENGTH} characters")
    if not _EMAIL.match(email):
        raise RowError(f"{email!r} is not an email address")
    return email.lower()


async def add_placeholder(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    email: str,
    full_name: str | None = None,
    hourly_rate_cents: int | None = None,
) -> Membership | None:
    """The new placeholder member for `email` (named by `UserRepository.add_placeholder` when
    no name is known), or None if an account has that email."""
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
