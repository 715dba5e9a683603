from app.db.models import ImportRun
from app.repositories.base import ScopedRepository


class ImportRunRepository(ScopedRepository[ImportRun]):
    model = ImportRun
    not_found_detail = "Import not found."
