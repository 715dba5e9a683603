"""The routes every catalog resource (clients, projects, tasks, tags) shares: create, get,
update, delete and restore, written once. Each resource's module adds its own list route."""

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel

from app.api.deps import WorkspaceAdmin, WorkspaceCaller, service
from app.api.etag import editable, respond
from app.api.problems import responses
from app.services.catalog import CatalogService


@dataclass(frozen=True)
class CatalogResource:
    noun: str
    # The path parameter naming one row, e.g. "client_id".
    id_param: str
    # A dependency giving the repository the caller reads through.
    rows: Callable[..., Awaitable[Any]]
    writes: type[CatalogService[Any]]
    create_schema: type[BaseModel]
    update_schema: type[BaseModel]
    read_schema: type[BaseModel]
    update_summary: str
    delete_summary: str
    # Adds what a read shows beyond the row's columns, given the rows' repository and the
    # rows (a project's progress); one call per response, however many rows.
    complete: Callable[[Any, list[Any]], Awaitable[None]] | None = None


def add_item_routes(router: APIRouter, resource: CatalogResource) -> None:
    """Add POST "" and GET/PATCH/DELETE "/{id}" and POST "/{id}/restore" to `router`."""
    noun = resource.noun
    Read = resource.read_schema
    Rows = Annotated[Any, Depends(resource.rows)]
    Writes = Annotated[CatalogService[Any], Depends(service(resource.writes))]
    RowId = Annotated[uuid.UUID, Path(alias=resource.id_param)]

    async def live_row(row_id: RowId, rows: Rows) -> Any:
        return await rows.get(row_id)

    Edited = Annotated[Any, Depends(editable(live_row))]

    async def completed(rows: Any, row: Any) -> Any:
        if resource.complete is not None:
            await resource.complete(rows, [row])
        return row

    async def create(
        body: resource.create_schema,  # type: ignore[name-defined]
        caller: WorkspaceAdmin,
        rows: Rows,
        writes: Writes,
        response: Response,
    ) -> Read:  # type: ignore[valid-type]
        row = await completed(rows, await writes.create(body.model_dump()))
        return respond(response, Read, row, caller)

    async def read(row_id: RowId, caller: WorkspaceCaller, rows: Rows, response: Response) -> Read:  # type: ignore[valid-type]
        row = await completed(rows, await rows.get(row_id, include_deleted=True))
        return respond(response, Read, row, caller)

    async def update(
        body: resource.update_schema,  # type: ignore[name-defined]
        caller: WorkspaceAdmin,
        rows: Rows,
        row: Edited,
        writes: Writes,
        response: Response,
    ) -> Read:  # type: ignore[valid-type]
        written = await completed(rows, await writes.update(row, body.model_dump()))
        return respond(response, Read, written, caller)

    async def delete(_: WorkspaceAdmin, row: Edited, writes: Writes) -> None:
        await writes.delete(row)

    async def restore(
        row_id: RowId, caller: WorkspaceAdmin, rows: Rows, writes: Writes, response: Response
    ) -> Read:  # type: ignore[valid-type]
        row = await writes.restore(await rows.get(row_id, include_deleted=True))
        return respond(response, Read, await completed(rows, row), caller)

    item = f"/{{{resource.id_param}}}"
    router.add_api_route(
        "",
        create,
        methods=["POST"],
        status_code=201,
        name=f"create_{noun}",
        summary=f"Create a {noun}",
        description=f"Admins only. Answers the new {noun}, with its ETag.",
        responses=responses(403, 409, 422),
    )
    router.add_api_route(
        item,
        read,
        methods=["GET"],
        name=f"get_{noun}",
        summary=f"Get a {noun}",
        description=f"Deleted {noun}s are found too, with `deleted_at` set, so that what "
        "points at them can still be shown.",
        responses=responses(422),
    )
    router.add_api_route(
        item,
        update,
        methods=["PATCH"],
        name=f"update_{noun}",
        summary=resource.update_summary,
        description="Admins only. Absent fields stay as they are. With `If-Match`, the change "
        f"happens only if nobody changed the {noun} since that read (412 otherwise).",
        responses=responses(403, 409, 412, 422),
    )
    router.add_api_route(
        item,
        delete,
        methods=["DELETE"],
        status_code=204,
        name=f"delete_{noun}",
        summary=resource.delete_summary,
        description=f"Admins only. The {noun} is marked deleted: lists leave it out, what "
        "points at it keeps pointing at it, and `restore` brings it back.",
        responses=responses(403, 412, 422),
    )
    router.add_api_route(
        f"{item}/restore",
        restore,
        methods=["POST"],
        name=f"restore_{noun}",
        summary=f"Restore a deleted {noun}",
        description=f"Admins only. 409 when the {noun} would clash with a live one, such as "
        "one with the same name.",
        responses=responses(403, 409, 422),
    )
