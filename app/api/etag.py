"""ETag, If-Match and the read of one versioned row."""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import Depends, Header, Response
from pydantic import BaseModel

from app.api.deps import read_context
from app.errors import StaleVersion
from app.services.caller import Caller

S = TypeVar("S", bound=BaseModel)


class Versioned(Protocol):
    version: int


V = TypeVar("V", bound=Versioned)

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=1024,
        description='The ETag of a previous read, `"<version>"`: the write happens only if the '
        "resource is still at that version, and answers 412 otherwise. Without it (or with "
        "`*`) the write happens regardless.",
        examples=['"3"'],
    ),
]


def etag_of(resource: Versioned) -> str:
    return f'"{resource.version}"'


def check_if_match(if_match: str | None, resource: Versioned) -> None:
    if if_match is None or if_match.strip() == "*":
        return
    offered = [tag.strip().removeprefix("W/") for tag in if_match.split(",")]
    if etag_of(resource) not in offered:
        raise StaleVersion("The resource has changed since it was read.")


def editable(load: Callable[..., Awaitable[V]]) -> Callable[..., Awaitable[V]]:
    """A dependency giving the row `load` finds by its path id, once the request's If-Match
    (when sent) names its current version. Every PATCH and DELETE of a versioned row takes
    its row this way, so none can forget the check."""

    async def loaded_and_matched(row: Annotated[Any, Depends(load)], if_match: IfMatch = None) -> V:
        check_if_match(if_match, row)
        return row  # type: ignore[no-any-return]

    return loaded_and_matched


def respond(response: Response, schema: type[S], row: Any, caller: Caller | None = None) -> S:
    """The read model of one versioned row for the caller, with its ETag on the response."""
    response.headers["ETag"] = etag_of(row)
    return schema.model_validate(row, context=read_context(caller) if caller else None)
