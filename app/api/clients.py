from typing import Annotated

from fastapi import Depends

from app.api.catalog import CatalogResource, add_item_routes
from app.api.deps import scoped, workspace_router
from app.api.filters import Archived, IncludeDeleted, NameContains, PageParamsDep
from app.api.problems import responses
from app.db.models import Client
from app.pagination import SortKey
from app.repositories.clients import ClientRepository
from app.schemas.clients import ClientCreate, ClientRead, ClientUpdate
from app.schemas.common import Page, page_of
from app.services.catalog import ClientService

router = workspace_router("clients", tag="clients")
Clients = Annotated[ClientRepository, Depends(scoped(ClientRepository))]
SORT_BY_NAME = SortKey(Client.name, Client.id)


@router.get(
    "",
    summary="List clients",
    description="By name; active clients unless `archived=true`.",
    responses=responses(422),
)
async def list_clients(
    clients: Clients,
    page: PageParamsDep,
    q: NameContains = None,
    archived: Archived = False,
    include_deleted: IncludeDeleted = False,
) -> Page[ClientRead]:
    statement = clients.search(q, include_deleted=include_deleted, archived=archived)
    return page_of(ClientRead, await clients.list(page, SORT_BY_NAME, statement))


add_item_routes(
    router,
    CatalogResource(
        noun="client",
        id_param="client_id",
        rows=scoped(ClientRepository),
        writes=ClientService,
        create_schema=ClientCreate,
        update_schema=ClientUpdate,
        read_schema=ClientRead,
        update_summary="Update, archive or unarchive a client",
        delete_summary="Delete a client (its projects keep it)",
    ),
)
