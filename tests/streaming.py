"""Reading Server-Sent Events in tests.

httpx's ASGI transport reads a whole body before it answers, which an endless stream never
ends; `open_stream` drives the application directly instead, in this event loop, and
hangs up like a client when the block ends.
"""

import asyncio
import json
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from starlette.types import ASGIApp, Message

# Long enough for a loaded machine, short enough that a missing message fails quickly.
WAIT_SECONDS = 10.0


@dataclass
class ServerSent:
    """One message of the stream: an event, or a comment alone (a heartbeat)."""

    id: str | None = None
    event: str | None = None
    data: str | None = None
    comments: list[str] = field(default_factory=list)

    def json(self) -> Any:
        assert self.data is not None
        return json.loads(self.data)


class ParsedStream:
    """Turns the bytes of a stream, however they are cut, into messages."""

    def __init__(self) -> None:
        self._text = ""

    def feed(self, chunk: bytes) -> list[ServerSent]:
        self._text = (self._text + chunk.decode()).replace("\r\n", "\n")
        *blocks, self._text = self._text.split("\n\n")
        return [_message(block) for block in blocks if block]


def _message(block: str) -> ServerSent:
    message = ServerSent()
    for line in block.split("\n"):
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "":
            message.comments.append(value)
        elif name == "data":
            message.data = value if message.data is None else f"{message.data}\n{value}"
        elif name in ("id", "event"):
            setattr(message, name, value)
    return message


class Stream:
    def __init__(self) -> None:
        self.status = 0
        self.headers: dict[str, str] = {}
        self.started = asyncio.Event()
        self.body = b""
        self._messages: asyncio.Queue[ServerSent | None] = asyncio.Queue()
        self._parser = ParsedStream()

    async def next(self, wait: float = WAIT_SECONDS) -> ServerSent | None:
        """The next message, or None once the server ended the stream."""
        async with asyncio.timeout(wait):
            return await self._messages.get()

    async def next_event(self, wait: float = WAIT_SECONDS) -> ServerSent:
        """The next event, past any heartbeats."""
        while True:
            message = await self.next(wait)
            assert message is not None, "the stream ended"
            if message.event is not None:
                return message

    async def events(self, count: int, wait: float = WAIT_SECONDS) -> list[ServerSent]:
        return [await self.next_event(wait) for _ in range(count)]

    async def ended(self, wait: float = WAIT_SECONDS) -> None:
        """Until the server ends the stream; fails on an event meanwhile."""
        while (message := await self.next(wait)) is not None:
            assert message.event is None, f"an event where the end was awaited: {message}"

    def _received(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = {k.decode().lower(): v.decode() for k, v in message["headers"]}
            self.started.set()
        elif message["type"] == "http.response.body":
            chunk = message.get("body", b"")
            self.body += chunk
            for parsed in self._parser.feed(chunk):
                self._messages.put_nowait(parsed)
            if not message.get("more_body", False):
                self._messages.put_nowait(None)


@asynccontextmanager
async def open_stream(
    app: ASGIApp,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    params: dict[str, Any] | None = None,
) -> AsyncIterator[Stream]:
    """GET `path` on `app` and give the stream once its headers came; hang up at the end."""
    stream = Stream()
    hung_up = asyncio.Event()
    sent_request = False

    async def receive() -> Message:
        nonlocal sent_request
        if not sent_request:
            sent_request = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await hung_up.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        stream._received(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": urlencode(params or {}).encode(),
        "headers": _raw_headers({"host": "test", **(headers or {})}.items()),
        "client": ("127.0.0.1", 50000),
        "server": ("test", 80),
        "state": {},
    }
    task = asyncio.create_task(app(scope, receive, send))
    try:
        async with asyncio.timeout(WAIT_SECONDS):
            await stream.started.wait()
        yield stream
    finally:
        hung_up.set()
        async with asyncio.timeout(WAIT_SECONDS):
            await task


def _raw_headers(items: Iterable[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(name.lower().encode(), value.encode()) for name, value in items]
