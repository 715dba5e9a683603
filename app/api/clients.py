import uuid
from typing import Annotated

from fastapi import Depends, Response

from app.api.deps import WorkspaceAdmin, scoped, workspace_router
from app.api.etag import IfMatch, check_if_match, respond
from app.api.filters import Archived, IncludeDeleted, NameContains
from app.db.models import Client
from app.errors import responses
from app.pagination import PageParamsDep, SortKey
from app.repositories.clients import ClientRepository
from app.schemas.clients import ClientCreate, ClientRead, ClientUpdate
from app.schemas.common import Page, page_of

router = workspace_router("clients", tag="clients")
Clients = Annotated[ClientRepository, Depends(scoped(ClientRepository))]
SORT_BY_NAME = SortKey(Client.name, Client.id)


@router.get("", summary="List clients", responses=responses(422))
async def list_clients(
    clients: Clients,
    page: PageParamsDep,
    q: NameContains = None,
    archived: Archived = False,
    include_deleted: IncludeDeleted = False,
) -> Page[ClientRead]:
    statement = clients.search(q, include_deleted=include_deleted, archived=archived)
    return page_of(ClientRead, await clients.list(page, SORT_BY_NAME, statement))


@router.post("", status_code=201, summary="Create a client", responses=responses(403, 409, 422))
async def create_client(
    body: ClientCreate, _: WorkspaceAdmin, clients: Clients, response: Response
) -> ClientRead:
    client = await clients.create(**body.model_dump())
    return respond(response, ClientRead, client)


@router.get("/{client_id}", summary="Get a client", responses=responses(422))
async def get_client(client_id: uuid.UUID, clients: Clients, response: Response) -> ClientRead:
    client = await clients.get(client_id, include_deleted=True)
    return respond(response, ClientRead, client)


@router.patch(
    "/{client_id}",
    summary="Update, archive or unarchive a client",
    responses=responses(403, 409, 412, 422),
)
async def update_client(
    client_id: uuid.UUID,
    body: ClientUpdate,
    _: WorkspaceAdmin,
    clients: Clients,
    response: Response,
    if_match: IfMatch = None,
) -> ClientRead:
    client = await clients.get(client_id)
    check_if_match(if_match, client)
    client = await clients.update(client, body.model_dump())
    return respond(response, ClientRead, client)


@router.delete(
    "/{client_id}",
    status_code=204,
    summary="Delete a client (its projects keep it)",
    responses=responses(403, 412, 422),
)
async def delete_client(
    client_id: uuid.UUID, _: WorkspaceAdmin, clients: Clients, if_match: IfMatch = None
) -> None:
    client = await clients.get(client_id)
    check_if_match(if_match, client)
    await clients.soft_delete(client)


@router.post(
    "/{client_id}/restore",
    summary="Restore a deleted client",
    responses=responses(403, 409, 422),
)
async def restore_client(
    client_id: uuid.UUID, _: WorkspaceAdmin, clients: Clients, response: Response
) -> ClientRead:
    client = await clients.restore(await clients.get(client_id, include_deleted=True))
    return respond(response, ClientRead, client)
