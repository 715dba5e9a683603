"""Factories for test data: each builds one row with sensible defaults and flushes."""

import asyncio
import itertools
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from httpx import AsyncClient, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import (
    AttemptCounter,
    Client,
    Invitation,
    Membership,
    Project,
    ProjectMember,
    Tag,
    Task,
    TimeEntry,
    User,
    Webhook,
    WebhookDelivery,
    Workspace,
)
from app.enums import AttemptKind, Role
from app.security import create_access_token, hash_password

_sequence = itertools.count(1)
DEFAULT_PASSWORD = "correct-horse-battery"
TEST_SECRET_KEY = "test-secret-key-with-enough-length"
_PASSWORD_HASH = asyncio.run(hash_password(DEFAULT_PASSWORD))


def _n() -> int:
    return next(_sequence)


async def _add(session: AsyncSession, row: Any) -> Any:
    session.add(row)
    await session.flush()
    return row


async def make_user(session: AsyncSession, **values: Any) -> User:
    n = _n()
    values.setdefault("email", f"user{n}-{uuid.uuid4().hex[:6]}@example.com")
    values.setdefault("full_name", f"User {n}")
    values.setdefault("password_hash", _PASSWORD_HASH)
    return await _add(session, User(**values))


async def make_workspace(
    session: AsyncSession, owner: User | None = None, **values: Any
) -> Workspace:
    owner = owner or await make_user(session)
    values.setdefault("name", f"Workspace {_n()}")
    workspace = await _add(session, Workspace(owner_user_id=owner.id, **values))
    await make_membership(session, workspace, owner, role=Role.OWNER)
    return workspace


async def make_membership(
    session: AsyncSession, workspace: Workspace, user: User, **values: Any
) -> Membership:
    values.setdefault("role", Role.MEMBER)
    return await _add(session, Membership(workspace_id=workspace.id, user_id=user.id, **values))


async def make_invitation(
    session: AsyncSession, workspace: Workspace, email: str, **values: Any
) -> Invitation:
    values.setdefault("role", Role.MEMBER)
    return await _add(session, Invitation(workspace_id=workspace.id, email=email, **values))


async def make_client(session: AsyncSession, workspace: Workspace, **values: Any) -> Client:
    values.setdefault("name", f"Client {_n()}")
    return await _add(session, Client(workspace_id=workspace.id, **values))


async def make_project(session: AsyncSession, workspace: Workspace, **values: Any) -> Project:
    values.setdefault("name", f"Project {_n()}")
    return await _add(session, Project(workspace_id=workspace.id, **values))


async def make_project_member(
    session: AsyncSession, project: Project, user: User, **values: Any
) -> ProjectMember:
    return await _add(
        session,
        ProjectMember(
            workspace_id=project.workspace_id, project_id=project.id, user_id=user.id, **values
        ),
    )


async def make_task(session: AsyncSession, project: Project, **values: Any) -> Task:
    values.setdefault("name", f"Task {_n()}")
    return await _add(
        session, Task(workspace_id=project.workspace_id, project_id=project.id, **values)
    )


async def make_tag(session: AsyncSession, workspace: Workspace, **values: Any) -> Tag:
    values.setdefault("name", f"tag-{_n()}")
    return await _add(session, Tag(workspace_id=workspace.id, **values))


async def make_webhook(
    session: AsyncSession, workspace: Workspace, creator: User, **values: Any
) -> Webhook:
    """A webhook row, subscribed to nothing (the service writes subscriptions)."""
    values.setdefault("url", "https://example.com/hook")
    values.setdefault("event_types", ["*"])
    values.setdefault("secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    webhook = Webhook(workspace_id=workspace.id, created_by_user_id=creator.id, **values)
    return await _add(session, webhook)


async def make_delivery(session: AsyncSession, webhook: Webhook) -> WebhookDelivery:
    delivery = WebhookDelivery(
        workspace_id=webhook.workspace_id,
        webhook_id=webhook.id,
        id=uuid.uuid4(),
        event_type="webhook.ping",
        payload={},
    )
    return await _add(session, delivery)


async def make_entry(
    session: AsyncSession, workspace: Workspace, user: User, **values: Any
) -> TimeEntry:
    start = values.pop("start_at", datetime(2024, 4, 22, 9, tzinfo=UTC))
    values.setdefault("end_at", start + timedelta(hours=1))
    return await _add(
        session, TimeEntry(workspace_id=workspace.id, user_id=user.id, start_at=start, **values)
    )


@dataclass
class Team:
    """A workspace with one user per role, and one outsider with a workspace of their own."""

    workspace: Workspace
    owner: User
    admin: User
    member: User
    outsider: User
    other_workspace: Workspace

    def by_role(self, role: str) -> User:
        return {
            "owner": self.owner,
            "admin": self.admin,
            "member": self.member,
            "outsider": self.outsider,
        }[role]


async def make_team(session: AsyncSession) -> Team:
    owner = await make_user(session)
    workspace = await make_workspace(session, owner=owner)
    admin, member, outsider = [await make_user(session) for _ in range(3)]
    await make_membership(session, workspace, admin, role=Role.ADMIN)
    await make_membership(session, workspace, member, role=Role.MEMBER)
    other_workspace = await make_workspace(session, owner=outsider)
    return Team(workspace, owner, admin, member, outsider, other_workspace)


def auth_headers(user: User, secret_key: str = TEST_SECRET_KEY) -> dict[str, str]:
    token = create_access_token(
        user.id, user.token_generation, secret_key=secret_key, ttl_seconds=600
    )
    return {"Authorization": f"Bearer {token}"}


async def sign_in(client: AsyncClient, email: str, password: str = DEFAULT_PASSWORD) -> Response:
    """Sign in through the real OAuth2 password endpoint."""
    return await client.post("/api/v1/auth/token", data={"username": email, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def attempts_of(session: AsyncSession, kind: AttemptKind, subject: str) -> int:
    """How many attempts the counter of `kind` holds for `subject` (0 with no row)."""
    statement = select(AttemptCounter.attempts).where(
        AttemptCounter.kind == kind, AttemptCounter.subject == subject
    )
    return (await session.scalar(statement.execution_options(populate_existing=True))) or 0
