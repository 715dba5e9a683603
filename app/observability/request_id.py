"""The request id: taken from the client's `X-Request-ID` when it is harmless, else made."""

import re
import uuid
from contextvars import ContextVar

REQUEST_ID_HEADER = "X-Request-ID"
# The id of the request being handled; each request runs in a context of its own.
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
REQUEST_ID_MAX_LENGTH = 128

# Ids from proxies and tracers (UUIDs, hex, base64url, "host:counter") fit; anything that
# could break a log line or a header, or carry a long payload, does not.
_SAFE_REQUEST_ID = re.compile(rf"[A-Za-z0-9._:-]{{1,{REQUEST_ID_MAX_LENGTH}}}")


def is_safe_request_id(value: str) -> bool:
    return _SAFE_REQUEST_ID.fullmatch(value) is not None


def new_request_id() -> str:
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    """The id of the request being handled, if any."""
    return REQUEST_ID.get()
