"""HTTP hardening as pure ASGI middleware: a size limit on request bodies, and the headers
that keep browsers and caches from misusing a response. Pure ASGI, because they run on
every request."""

from collections.abc import Callable

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.problems import problem_response

Limit = Callable[[Scope], int]


def _too_large(limit: int) -> str:
    return f"The request body is larger than {limit} bytes."


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class BodySizeLimit:
    """Answers 413 for a request body beyond `limit(scope)` bytes: at once when its
    Content-Length says so, else as soon as the bytes read pass the limit.

    The server delivers no more than a declared Content-Length, so only bodies without one
    (chunked) are counted as they arrive.
    """

    def __init__(self, app: ASGIApp, limit: Limit) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit(scope)
        declared = _content_length(scope)
        if declared is not None:
            if declared > limit:
                await problem_response(413, _too_large(limit))(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                # Raised to whoever reads the body; FastAPI passes HTTPException on to
                # the problem+json handlers.
                raise HTTPException(413, _too_large(limit))
            return message

        await self.app(scope, counted, send)


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


class SecurityHeaders:
    """`X-Content-Type-Options: nosniff` on every response; `Cache-Control: no-store` on
    what is private (requests with credentials, and the sign-in paths) unless the route set
    its own; a Content-Security-Policy on the documentation pages."""

    def __init__(
        self, app: ASGIApp, *, private_prefixes: tuple[str, ...], docs_paths: frozenset[str]
    ) -> None:
        self.app = app
        self.private_prefixes = private_prefixes
        self.docs_paths = docs_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        extra = [NOSNIFF]
        if path in self.docs_paths:
            extra.append(DOCS_POLICY)
        private = path.startswith(self.private_prefixes) or any(
            name == b"authorization" for name, _ in scope["headers"]
        )

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                headers.extend(extra)
                if private and not any(name == b"cache-control" for name, _ in headers):
                    headers.append(NO_STORE)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
