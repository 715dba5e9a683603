"""Request dependencies: the session, the caller, and the one permission layer.

Every workspace route is mounted on a router from `workspace_router`, which resolves the
caller's membership before anything else runs: an outsider gets 404 for everything in the
workspace, by construction. Routes that need more than membership take `WorkspaceAdmin`
or `WorkspaceOwner`, which answer 403.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Path, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db.models import Membership, User, Workspace
from app.db.session import get_session
from app.enums import Role
from app.errors import Forbidden, NotFound, Unauthorized, responses
from app.repositories.api_tokens import ApiTokenRepository
from app.repositories.base import Repository, ScopedRepository
from app.repositories.workspaces import WorkspaceRepository
from app.schemas.common import rate_context
from app.security import API_TOKEN_PREFIX, InvalidToken, decode_access_token

SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


def get_settings_from_app(request: Request) -> Settings:
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(get_settings_from_app)]

bearer_scheme = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/token",
    auto_error=False,
    description="A JWT access token from /auth/token, or a personal API token (tsk_…).",
)


async def current_user(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(bearer_scheme)],
) -> User:
    if not token:
        raise Unauthorized("Not authenticated.")
    request.state.via_api_token = token.startswith(API_TOKEN_PREFIX)
    if request.state.via_api_token:
        user = await ApiTokenRepository(session).authenticate(token)
        if user is None:
            raise Unauthorized("The API token is invalid, expired or revoked.")
        return user
    try:
        claims = decode_access_token(token, secret_key=settings.secret_key)
    except InvalidToken as exc:
        raise Unauthorized("The access token is invalid or expired.") from exc
    user = await session.get(User, claims.user_id)
    if (
        user is None
        or not user.is_active
        or user.deleted_at is not None
        or user.token_generation != claims.token_generation
    ):
        raise Unauthorized("The access token is no longer valid.")
    return user


CurrentUser = Annotated[User, Depends(current_user)]


@dataclass(frozen=True)
class WorkspaceAccess:
    """The caller's standing in the workspace named by the path."""

    workspace: Workspace
    membership: Membership
    user: User
    # Scripts and integrations sign in with personal API tokens; entries they write say so.
    via_api_token: bool = False

    @property
    def role(self) -> Role:
        return self.membership.role

    @property
    def is_admin(self) -> bool:
        return self.role in (Role.OWNER, Role.ADMIN)

    @property
    def can_see_rates(self) -> bool:
        return self.is_admin or self.workspace.members_can_see_rates

    @property
    def read_context(self) -> dict[str, Any]:
        """The validation context of reads made for this caller: it decides whether rates show."""
        return rate_context(self.can_see_rates)


async def workspace_access(
    request: Request,
    workspace_id: Annotated[uuid.UUID, Path()],
    user: CurrentUser,
    session: SessionDep,
) -> WorkspaceAccess:
    found = await WorkspaceRepository(session).get_membership(workspace_id, user.id)
    if found is None:
        raise NotFound("Workspace not found.")
    workspace, membership = found
    return WorkspaceAccess(
        workspace=workspace,
        membership=membership,
        user=user,
        via_api_token=request.state.via_api_token,
    )


WorkspaceMember = Annotated[WorkspaceAccess, Depends(workspace_access)]


def require_role(*roles: Role) -> Callable[[WorkspaceAccess], WorkspaceAccess]:
    def check(access: WorkspaceMember) -> WorkspaceAccess:
        if access.role not in roles:
            raise Forbidden("Your role in this workspace does not allow this.")
        return access

    return check


WorkspaceAdmin = Annotated[WorkspaceAccess, Depends(require_role(Role.OWNER, Role.ADMIN))]
WorkspaceOwner = Annotated[WorkspaceAccess, Depends(require_role(Role.OWNER))]

R = TypeVar("R", bound=ScopedRepository)  # type: ignore[type-arg]
Q = TypeVar("Q", bound=Repository)  # type: ignore[type-arg]


def scoped(repository: type[R]) -> Callable[[WorkspaceAccess, AsyncSession], R]:
    """A dependency giving `repository` bound to the request's session and workspace."""

    def build(access: WorkspaceMember, session: SessionDep) -> R:
        return repository(session, access.workspace.id)

    return build


def visible(repository: Callable[..., R]) -> Callable[[WorkspaceAccess, AsyncSession], R]:
    """Like `scoped`, and narrowed to what the caller may see: admins see every project,
    members the public ones and the private ones they belong to (and what hangs off those)."""

    def build(access: WorkspaceMember, session: SessionDep) -> R:
        viewer_id = None if access.is_admin else access.user.id
        return repository(session, access.workspace.id, viewer_id=viewer_id)

    return build


def unscoped(repository: type[Q]) -> Callable[[AsyncSession], Q]:
    """A dependency giving `repository` bound to the request's session, for data that
    belongs to no one workspace (accounts, tokens, the caller's list of workspaces)."""

    def build(session: SessionDep) -> Q:
        return repository(session)

    return build


def workspace_router(resource: str, tag: str) -> APIRouter:
    """A router for `/workspaces/{workspace_id}/<resource>` that only members get through."""
    return _members_only_router(f"/workspaces/{{workspace_id}}/{resource}", tag)


def workspace_root_router(tag: str) -> APIRouter:
    """A router for `/workspaces/{workspace_id}` itself, behind the same membership gate."""
    return _members_only_router("/workspaces/{workspace_id}", tag)


def _members_only_router(prefix: str, tag: str) -> APIRouter:
    return APIRouter(
        prefix=prefix,
        tags=[tag],
        dependencies=[Depends(workspace_access)],
        responses=responses(401, 404),
    )


def authenticated_router(prefix: str, tag: str) -> APIRouter:
    return APIRouter(
        prefix=prefix,
        tags=[tag],
        dependencies=[Depends(current_user)],
        responses=responses(401),
    )
