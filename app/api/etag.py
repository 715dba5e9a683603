"""ETag and If-Match for resources with a `version`."""

from typing import Annotated, Any, Protocol, TypeVar

from fastapi import Header, Response
from pydantic import BaseModel

from app.errors import PreconditionFailed

S = TypeVar("S", bound=BaseModel)


class Versioned(Protocol):
    version: int


IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", description="An ETag from a previous read; 412 when stale."),
]


def etag_of(resource: Versioned) -> str:
    return f'"{resource.version}"'


def set_etag(response: Response, resource: Versioned) -> None:
    response.headers["ETag"] = etag_of(resource)


def check_if_match(if_match: str | None, resource: Versioned) -> None:
    if if_match is None or if_match.strip() == "*":
        return
    current = etag_of(resource)
    offered = [tag.strip().removeprefix("W/") for tag in if_match.split(",")]
    if current not in offered:
        raise PreconditionFailed("The resource has changed since it was read.")


def respond(
    response: Response, schema: type[S], row: Versioned, *, context: dict[str, Any] | None = None
) -> S:
    """The read model of one versioned row, with its ETag on the response."""
    set_etag(response, row)
    return schema.model_validate(row, context=context)
