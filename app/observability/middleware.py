"""How a request is named and logged once it is answered (by `app.api.edge.Edge`).

Routes are named by the template FastAPI resolved while routing the request, read after
the response: matching the routes a second time, as generic instrumentators do before the
request, costs more than the rest of a health check.
"""

import logging
from collections.abc import Iterable
from typing import Any

from starlette.requests import Request
from starlette.routing import BaseRoute
from starlette.types import Scope

from app.observability.request_id import current_request_id
from app.services.caller import Caller

access_logger = logging.getLogger("timesheet.access")

# Label for paths no route matched: their raw paths would make the metrics unbounded.
UNMATCHED_ROUTE = "unmatched"
# Methods beyond these are counted together, for the same reason.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "other"

# Keys in the request's state where the API names the caller once authentication succeeds.
CALLER_USER_ID = "log_user_id"
CALLER_WORKSPACE_ID = "log_workspace_id"


def log_caller(request: Request, caller: Caller) -> None:
    """Name the authenticated caller, and their workspace, in the request's log line."""
    setattr(request.state, CALLER_USER_ID, caller.user_id)
    if caller.workspace is not None:
        setattr(request.state, CALLER_WORKSPACE_ID, caller.workspace.id)


def route_templates(routes: Iterable[BaseRoute]) -> dict[int, str]:
    """Each route's full template, prefixes included, keyed by the id of the route object
    the router leaves in `scope["route"]` (routes are not hashable). Included routers keep
    their routes unprefixed, so the template comes from the context FastAPI resolves them
    in."""
    templates: dict[int, str] = {}
    for route in routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is None:
            templates[id(route)] = getattr(route, "path_format", None) or getattr(route, "path", "")
            continue
        for context in contexts():
            templates[id(context.original_route)] = context.path_format or context.path
    return templates


class RouteNames:
    """Names a request by the route template FastAPI resolved for it (`scope["route"]`,
    read after the response) and by its method, as the metrics and the access log do."""

    def __init__(self) -> None:
        self.templates: dict[int, str] | None = None

    def template(self, scope: Scope) -> str:
        route = scope.get("route")
        if route is None:
            return UNMATCHED_ROUTE
        if self.templates is None:
            # Built on the first request, once every route is added.
            self.templates = route_templates(scope["app"].routes)
        return self.templates.get(id(route)) or getattr(route, "path_format", UNMATCHED_ROUTE)

    @staticmethod
    def method(scope: Scope) -> str:
        return scope["method"] if scope["method"] in KNOWN_METHODS else OTHER_METHOD


def log_request(scope: Scope, method: str, route: str, status: int, seconds: float) -> None:
    """The request's access log line, when INFO is on."""
    if not access_logger.isEnabledFor(logging.INFO):
        return
    duration_ms = round(seconds * 1000, 2)
    fields: dict[str, Any] = {
        "request_id": current_request_id(),
        "method": method,
        "route": route,
        "path": scope["path"],
        "status": status,
        "duration_ms": duration_ms,
    }
    state = scope.get("state") or {}
    for key, field in ((CALLER_USER_ID, "user_id"), (CALLER_WORKSPACE_ID, "workspace_id")):
        if key in state:
            fields[field] = str(state[key])
    access_logger.info("%s %s %s %.2fms", method, route, status, duration_ms, extra=fields)
