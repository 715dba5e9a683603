"""Query parameters the catalog lists (clients, projects, tasks) share."""

from typing import Annotated

from fastapi import Query
from pydantic import AfterValidator

from app.schemas.common import refuse_nul

NameContains = Annotated[
    str | None,
    Query(max_length=200, description="Name contains (case-insensitive)."),
    AfterValidator(refuse_nul),
]
Archived = Annotated[
    bool,
    Query(description="`false` (default): active items only; `true`: archived items only."),
]
IncludeDeleted = Annotated[bool, Query(description="Also list soft-deleted items.")]
