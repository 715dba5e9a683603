"""Request dependencies: the unit of work, the caller, and the gates every route goes through.

Every workspace route resolves the caller's membership, `workspace_caller`, through what it
takes: the caller itself, or the repositories and services built for the caller. An outsider
gets 404 for everything in the workspace before any of it runs; `test_workspace_isolation`
holds every route, present and future, to both. Routes that need more than membership take
`WorkspaceAdmin` or `WorkspaceOwner`, which answer 403 from the policies module.

FastAPI walks a dependency's own dependencies each time one names it, cached or not: the
gate is not repeated on the routers, and the dependencies under it are kept few.
"""

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Path, Request, Security
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.problems import responses
from app.config import Settings
from app.db.unit_of_work import UnitOfWork
from app.enums import EventOrigin
from app.observability.middleware import log_caller
from app.observability.request_id import current_request_id
from app.openapi import operation_id
from app.repositories.base import Repository, ScopedRepository
from app.schemas.common import rate_context
from app.services import policies
from app.services.accounts import authenticate
from app.services.caller import Caller

API_PREFIX = "/api/v1"


# Methods that never write; their requests read without taking SQLite's write lock.
READING_METHODS = frozenset({"GET", "HEAD"})


async def unit_of_work(request: Request) -> AsyncIterator[UnitOfWork]:
    """The request's unit of work. Used with `scope="function"`, so it commits before the
    response is sent: a client never sees success for a write that did not land."""
    read_only = request.method in READING_METHODS
    async with UnitOfWork(
        request.app.state.sessions,
        read_only=read_only,
        origin=EventOrigin.API,
        request_id=current_request_id(),
    ) as uow:
        yield uow


UnitOfWorkDep = Annotated[UnitOfWork, Depends(unit_of_work, scope="function")]


async def request_session(uow: UnitOfWorkDep) -> AsyncSession:
    return uow.session


SessionDep = Annotated[AsyncSession, Depends(request_session)]


async def app_settings(request: Request) -> Settings:
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(app_settings)]

bearer_scheme = OAuth2PasswordBearer(
    tokenUrl=f"{API_PREFIX}/auth/token",
    auto_error=False,
    description="A JWT access token from /auth/token, or a personal API token (tsk_…).",
)


BearerToken = Annotated[str | None, Depends(bearer_scheme)]


async def current_caller(request: Request, uow: UnitOfWorkDep, token: BearerToken) -> Caller:
    caller = await authenticate(uow, request.app.state.settings, token)
    uow.act_as(caller.user_id)
    log_caller(request, caller)
    return caller


CurrentCaller = Annotated[Caller, Depends(current_caller)]


async def workspace_caller(
    request: Request, workspace_id: Annotated[uuid.UUID, Path()], uow: UnitOfWorkDep
) -> Caller:
    """The caller standing in the workspace named by the path; outsiders get 404. Routes
    name it more than once, so the token is read here (the router declares the scheme)."""
    settings = request.app.state.settings
    token = await bearer_scheme(request)
    caller = await authenticate(uow, settings, token, workspace_id=workspace_id)
    uow.act_as(caller.user_id)
    log_caller(request, caller)
    return caller


WorkspaceCaller = Annotated[Caller, Depends(workspace_caller)]


async def admin_caller(caller: WorkspaceCaller) -> Caller:
    policies.require_admin(caller)
    return caller


async def owner_caller(caller: WorkspaceCaller) -> Caller:
    policies.require_owner(caller)
    return caller


WorkspaceAdmin = Annotated[Caller, Depends(admin_caller)]
WorkspaceOwner = Annotated[Caller, Depends(owner_caller)]


def read_context(caller: Caller) -> dict[str, Any]:
    """The validation context of what this caller reads: it decides whether rates show."""
    return rate_context(policies.may_see_rates(caller))


R = TypeVar("R", bound=ScopedRepository)  # type: ignore[type-arg]
Q = TypeVar("Q", bound=Repository)  # type: ignore[type-arg]
S = TypeVar("S")


def scoped(repository: type[R]) -> Callable[[Caller, AsyncSession], Awaitable[R]]:
    """A dependency giving `repository` bound to the request's session and workspace."""

    async def build(caller: WorkspaceCaller, uow: UnitOfWorkDep) -> R:
        return repository(uow.session, caller.current_workspace().id)

    return build


def visible(repository: Callable[..., R]) -> Callable[[Caller, AsyncSession], Awaitable[R]]:
    """Like `scoped`, and narrowed to the projects the caller may see (and what hangs off
    them): admins see every project, members the public ones and their private ones."""

    async def build(caller: WorkspaceCaller, uow: UnitOfWorkDep) -> R:
        viewer_id = policies.project_viewer(caller)
        return repository(uow.session, caller.current_workspace().id, viewer_id=viewer_id)

    return build


def unscoped(repository: type[Q]) -> Callable[[AsyncSession], Awaitable[Q]]:
    """A dependency giving `repository` bound to the request's session, for data that
    belongs to no one workspace (accounts, tokens, the caller's list of workspaces)."""

    async def build(session: SessionDep) -> Q:
        return repository(session)

    return build


def service(factory: Callable[[AsyncSession, Caller], S]) -> Callable[..., Awaitable[S]]:
    """A dependency giving a workspace service acting for the caller."""

    async def build(caller: WorkspaceCaller, uow: UnitOfWorkDep) -> S:
        return factory(uow.session, caller)

    return build


def workspace_router(resource: str, tag: str) -> APIRouter:
    """A router for `/workspaces/{workspace_id}/<resource>`, whose routes resolve the caller's
    membership (`workspace_caller`)."""
    return _members_only_router(f"{API_PREFIX}/workspaces/{{workspace_id}}/{resource}", tag)


def workspace_root_router(tag: str) -> APIRouter:
    """A router for `/workspaces/{workspace_id}` itself, under the same membership rule."""
    return _members_only_router(f"{API_PREFIX}/workspaces/{{workspace_id}}", tag)


def api_router(**options: Any) -> APIRouter:
    """Every router is made here, so that each route's operation id is its own name."""
    return APIRouter(generate_unique_id_function=operation_id, **options)


def _members_only_router(prefix: str, tag: str) -> APIRouter:
    return api_router(
        prefix=prefix,
        tags=[tag],
        dependencies=[Security(bearer_scheme)],
        responses=responses(401, 404),
    )


def authenticated_router(prefix: str, tag: str) -> APIRouter:
    """A router for `/api/v1<prefix>` that only signed-in callers get through."""
    return api_router(
        prefix=f"{API_PREFIX}{prefix}",
        tags=[tag],
        dependencies=[Depends(current_caller)],
        responses=responses(401),
    )
