"""The one middleware every request passes, pure ASGI: it gives the request its id, limits
its body, adds the hardening headers to its response, and times it once for the metrics
and the access log line.

One layer rather than four: each ASGI layer wraps `send` and `receive` and costs its calls
on every request, and all four read the same headers. It is added last, so it wraps every
other middleware and sees every response but the 500s Starlette sends from beyond all
middleware (`_server_error_handler` gives those the same headers).
"""

import time
from collections.abc import Callable

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.problems import problem_response
from app.observability.metrics import HttpMetrics
from app.observability.middleware import RouteNames, log_request
from app.observability.request_id import REQUEST_ID, is_safe_request_id, new_request_id

Limit = Callable[[Scope], int]

NOSNIFF = (b"x-content-type-options", b"nosniff")
NO_STORE = (b"cache-control", b"no-store")
# The documentation pages load their scripts, styles and images from this origin only.
# Swagger UI starts from an inline script and both UIs style inline; Redoc searches in
# a worker it builds from a blob.
DOCS_POLICY = (
    b"content-security-policy",
    b"default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    b"img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src 'self' blob:; "
    b"object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'",
)


def _too_large(limit: int) -> str:
    return f"The request body is larger than {limit} bytes."


class Edge:
    """- **Request id**: the client's `X-Request-ID` when it is harmless, else a new one; in
      every log record of the request and on its response.
    - **Body limit**: 413 for a body beyond `body_limit(scope)` bytes, at once when its
      Content-Length says so, else as soon as the bytes read pass the limit (the server
      delivers no more than a declared length, so only chunked bodies are counted).
    - **Headers**: `nosniff` on every response; `no-store` on what is private (requests
      with credentials, and `private_prefixes`) unless the route set its own; a
      Content-Security-Policy on the documentation pages.
    - **Observing**: the time, counted in the metrics and written as the access log line,
      by the route template FastAPI resolved (read after the response, so that no route is
      matched twice).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        body_limit: Limit,
        private_prefixes: tuple[str, ...],
        docs_paths: frozenset[str],
        metrics: HttpMetrics | None,
        access_log: bool,
    ) -> None:
        self.app = app
        self.body_limit = body_limit
        self.private_prefixes = private_prefixes
        self.docs_paths = docs_paths
        self.metrics = metrics
        self.access_log = access_log
        self.routes = RouteNames()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        offered_id = declared = None
        private = False
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                offered_id = value.decode("latin-1")
            elif name == b"content-length":
                declared = int(value) if value.isdigit() else None
            elif name == b"authorization":
                private = True
        request_id = (
            offered_id
            if offered_id is not None and is_safe_request_id(offered_id)
            else new_request_id()
        )
        # Not reset afterwards: the 500 handler, beyond this layer, still reads it.
        REQUEST_ID.set(request_id)
        path: str = scope["path"]
        extra = [NOSNIFF, (b"x-request-id", request_id.encode())]
        if path in self.docs_paths:
            extra.append(DOCS_POLICY)
        private = private or path.startswith(self.private_prefixes)
        status = 500

        async def send_edged(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                headers.extend(extra)
                if private and not any(name == b"cache-control" for name, _ in headers):
                    headers.append(NO_STORE)
                message["headers"] = headers
            await send(message)

        if self.metrics is not None:
            self.metrics.in_progress.inc()
        try:
            limit = self.body_limit(scope)
            if declared is None:
                await self.app(scope, _counted(receive, limit), send_edged)
            elif declared > limit:
                await problem_response(413, _too_large(limit))(scope, receive, send_edged)
            else:
                await self.app(scope, receive, send_edged)
        finally:
            self._observe(scope, status, time.perf_counter() - start)

    def _observe(self, scope: Scope, status: int, seconds: float) -> None:
        route = self.routes.template(scope)
        method = self.routes.method(scope)
        if self.metrics is not None:
            self.metrics.in_progress.dec()
            self.metrics.observe(method, route, status, seconds)
        if self.access_log:
            log_request(scope, method, route, status, seconds)


def _counted(receive: Receive, limit: int) -> Receive:
    received = 0

    async def counted() -> Message:
        nonlocal received
        message = await receive()
        received += len(message.get("body", b""))
        if received > limit:
            # Raised to whoever reads the body; FastAPI passes HTTPException on to the
            # problem+json handlers.
            raise HTTPException(413, _too_large(limit))
        return message

    return counted
