"""Responses rendered once: the hottest routes build their JSON straight from the rows they
read or wrote, with the schema's `render`, and return it as a finished `Response`. FastAPI
then neither validates nor serializes the same data again; the route's `response_model`
still describes it in the OpenAPI document, and tests hold both renderings equal."""

import uuid
from collections.abc import Sequence
from typing import Any, Protocol

import orjson
from fastapi import Response

from app.api.etag import etag_of
from app.pagination import PageResult
from app.services import policies
from app.services.caller import Caller

# Instants in UTC end in `Z`, as pydantic writes them.
_OPTIONS = orjson.OPT_UTC_Z


def _other(value: Any) -> str:
    # asyncpg hands out ids as its own subclass of UUID, which orjson does not take as one.
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


class Renders(Protocol):
    @classmethod
    def render(cls, rows: Sequence[Any], *, rates_visible: bool) -> list[dict[str, Any]]: ...


def json_response(
    content: Any, *, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        orjson.dumps(content, default=_other, option=_OPTIONS),
        status_code=status_code,
        headers=headers,
        media_type="application/json",
    )


def render_one(
    schema: type[Renders], row: Any, caller: Caller, *, status_code: int = 200
) -> Response:
    """One versioned row for the caller, with its ETag."""
    [content] = schema.render([row], rates_visible=policies.may_see_rates(caller))
    return json_response(content, status_code=status_code, headers={"ETag": etag_of(row)})


def render_page(schema: type[Renders], page: PageResult[Any], caller: Caller) -> Response:
    """One page of rows for the caller, as `Page[schema]` describes it."""
    return json_response(
        {
            "items": schema.render(page.items, rates_visible=policies.may_see_rates(caller)),
            "next_cursor": page.next_cursor,
            "total": page.total,
        }
    )
