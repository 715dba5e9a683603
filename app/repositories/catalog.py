"""What clients, projects, tasks and tags share: name search, and archived rows kept apart."""

from typing import TypeVar

from sqlalchemy import Select, func

from app.db.base import Base
from app.repositories.base import ScopedRepository

M = TypeVar("M", bound=Base)


class CatalogRepository(ScopedRepository[M]):
    def search(self, query: str | None, *, include_deleted: bool) -> Select[tuple[M]]:
        statement = self.select(include_deleted=include_deleted)
        if query:
            name = func.lower(self.model.name)
            statement = statement.where(name.contains(query.lower(), autoescape=True))
        return statement


class ArchivableRepository(CatalogRepository[M]):
    """Rows with an `archived_at`: lists show the active ones or the archived ones."""

    def search(
        self, query: str | None, *, include_deleted: bool, archived: bool = False
    ) -> Select[tuple[M]]:
        statement = super().search(query, include_deleted=include_deleted)
        archived_at = self.model.archived_at
        return statement.where(archived_at.is_not(None) if archived else archived_at.is_(None))
