"""Query parameters lists share: the page, and the catalog's name and state filters."""

from typing import Annotated

from fastapi import Depends, Query
from pydantic import AfterValidator

from app.pagination import DEFAULT_LIMIT, MAX_LIMIT, PageParams
from app.schemas.common import SearchText, refuse_nul

NameContains = Annotated[
    SearchText | None,
    Query(description="Name contains (case-insensitive).", examples=["acme"]),
    AfterValidator(refuse_nul),
]
Archived = Annotated[
    bool,
    Query(description="`false` (default): active items only; `true`: archived items only."),
]
IncludeDeleted = Annotated[bool, Query(description="Also list soft-deleted items.")]


async def page_params(
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description="Items per page.", examples=[100])
    ] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None,
        Query(
            description="`next_cursor` of the previous page.",
            max_length=512,
            examples=["eyJrIjoibmFtZSIsInYiOiJBY21lIiwiaWQiOiI0ZjBjIn0"],
        ),
    ] = None,
    include_total: Annotated[bool, Query(description="Also count every matching item.")] = False,
) -> PageParams:
    return PageParams(limit=limit, cursor=cursor, include_total=include_total)


PageParamsDep = Annotated[PageParams, Depends(page_params)]
