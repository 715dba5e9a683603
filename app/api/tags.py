import uuid
from typing import Annotated

from fastapi import Depends, Response

from app.api.deps import WorkspaceAdmin, scoped, workspace_router
from app.api.etag import IfMatch, check_if_match, respond
from app.api.filters import IncludeDeleted, NameContains
from app.db.models import Tag
from app.errors import responses
from app.pagination import PageParamsDep, SortKey
from app.repositories.tags import TagRepository
from app.schemas.common import Page, page_of
from app.schemas.tags import TagCreate, TagRead, TagUpdate

router = workspace_router("tags", tag="tags")
Tags = Annotated[TagRepository, Depends(scoped(TagRepository))]
SORT_BY_NAME = SortKey(Tag.name, Tag.id)


@router.get("", summary="List tags", responses=responses(422))
async def list_tags(
    tags: Tags,
    page: PageParamsDep,
    q: NameContains = None,
    include_deleted: IncludeDeleted = False,
) -> Page[TagRead]:
    result = await tags.list(page, SORT_BY_NAME, tags.search(q, include_deleted=include_deleted))
    return page_of(TagRead, result)


@router.post("", status_code=201, summary="Create a tag", responses=responses(403, 409, 422))
async def create_tag(body: TagCreate, _: WorkspaceAdmin, tags: Tags, response: Response) -> TagRead:
    tag = await tags.create(**body.model_dump())
    return respond(response, TagRead, tag)


@router.get("/{tag_id}", summary="Get a tag")
async def get_tag(tag_id: uuid.UUID, tags: Tags, response: Response) -> TagRead:
    tag = await tags.get(tag_id, include_deleted=True)
    return respond(response, TagRead, tag)


@router.patch("/{tag_id}", summary="Update a tag", responses=responses(403, 409, 412, 422))
async def update_tag(
    tag_id: uuid.UUID,
    body: TagUpdate,
    _: WorkspaceAdmin,
    tags: Tags,
    response: Response,
    if_match: IfMatch = None,
) -> TagRead:
    tag = await tags.get(tag_id)
    check_if_match(if_match, tag)
    tag = await tags.update(tag, body.model_dump())
    return respond(response, TagRead, tag)


@router.delete("/{tag_id}", status_code=204, summary="Delete a tag", responses=responses(403, 412))
async def delete_tag(
    tag_id: uuid.UUID, _: WorkspaceAdmin, tags: Tags, if_match: IfMatch = None
) -> None:
    tag = await tags.get(tag_id)
    check_if_match(if_match, tag)
    await tags.soft_delete(tag)


@router.post("/{tag_id}/restore", summary="Restore a deleted tag", responses=responses(403, 409))
async def restore_tag(
    tag_id: uuid.UUID, _: WorkspaceAdmin, tags: Tags, response: Response
) -> TagRead:
    tag = await tags.restore(await tags.get(tag_id, include_deleted=True))
    return respond(response, TagRead, tag)
