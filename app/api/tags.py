from typing import Annotated

from fastapi import Depends

from app.api.catalog import CatalogResource, add_item_routes
from app.api.deps import scoped, workspace_router
from app.api.filters import IncludeDeleted, NameContains, PageParamsDep
from app.api.problems import responses
from app.db.models import Tag
from app.pagination import SortKey
from app.repositories.tags import TagRepository
from app.schemas.common import Page, page_of
from app.schemas.tags import TagCreate, TagRead, TagUpdate
from app.services.catalog import TagService

router = workspace_router("tags", tag="tags")
Tags = Annotated[TagRepository, Depends(scoped(TagRepository))]
SORT_BY_NAME = SortKey(Tag.name, Tag.id)


@router.get(
    "",
    summary="List tags",
    description="By name; `q` narrows to names containing it.",
    responses=responses(422),
)
async def list_tags(
    tags: Tags,
    page: PageParamsDep,
    q: NameContains = None,
    include_deleted: IncludeDeleted = False,
) -> Page[TagRead]:
    result = await tags.list(page, SORT_BY_NAME, tags.search(q, include_deleted=include_deleted))
    return page_of(TagRead, result)


add_item_routes(
    router,
    CatalogResource(
        noun="tag",
        id_param="tag_id",
        rows=scoped(TagRepository),
        writes=TagService,
        create_schema=TagCreate,
        update_schema=TagUpdate,
        read_schema=TagRead,
        update_summary="Update a tag",
        delete_summary="Delete a tag",
    ),
)
