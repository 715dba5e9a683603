from app.db.models import Client
from app.repositories.catalog import ArchivableRepository


class ClientRepository(ArchivableRepository[Client]):
    model = Client
    conflict_detail = "A client with this name already exists in the workspace."
    not_found_detail = "Client not found."
