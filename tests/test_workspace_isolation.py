"""Every route inside a workspace, present and future, is closed to outsiders by construction:
404 for a user of another workspace, 401 without credentials, whatever the rest of the request."""

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute
from httpx import AsyncClient

from app.api.deps import workspace_caller
from app.api.events import stream_caller
from app.main import create_app
from tests.factories import Team, auth_headers

_APP = create_app()
WORKSPACE_ROUTES = [
    (method.upper(), path)
    for path, item in _APP.openapi()["paths"].items()
    if "{workspace_id}" in path
    for method in item
]


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every APIRoute, also inside routers that the app includes lazily."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif (included := getattr(route, "original_router", None)) is not None:
            yield from _api_routes(included.routes)


WORKSPACE_API_ROUTES = [r for r in _api_routes(_APP.routes) if "{workspace_id}" in r.path]


def _fill(path: str, team: Team) -> str:
    filled = path.replace("{workspace_id}", str(team.workspace.id))
    while "{" in filled:
        start, end = filled.index("{"), filled.index("}")
        filled = filled[:start] + str(uuid.uuid4()) + filled[end + 1 :]
    return filled


def _dependencies(route: APIRoute) -> set[object]:
    pending, seen = [route.dependant], set()
    while pending:
        dependant = pending.pop()
        seen.add(dependant.call)
        pending.extend(dependant.dependencies)
    return seen


def test_workspace_routes_exist() -> None:
    assert len(WORKSPACE_ROUTES) > 30
    assert sum(len(route.methods) for route in WORKSPACE_API_ROUTES) == len(WORKSPACE_ROUTES)


@pytest.mark.parametrize(
    "route",
    WORKSPACE_API_ROUTES,
    ids=lambda route: f"{sorted(route.methods)[0]} {route.path}",
)
def test_route_resolves_membership(route: APIRoute) -> None:
    # The event stream's gate also takes a ticket, and resolves membership the same way.
    assert {workspace_caller, stream_caller} & _dependencies(route)


@pytest.mark.parametrize(("method", "path"), WORKSPACE_ROUTES)
async def test_outsider_gets_404_and_anonymous_401(
    client: AsyncClient, team: Team, method: str, path: str
) -> None:
    url = _fill(path, team)
    outsider = await client.request(method, url, headers=auth_headers(team.outsider), json={})
    assert outsider.status_code == 404, outsider.text
    anonymous = await client.request(method, url, json={})
    assert anonymous.status_code == 401, anonymous.text
