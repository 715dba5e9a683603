"""What clients, projects and tasks share: name search, on/off states kept as timestamps,
and the rule that archived rows take nothing new."""

import uuid
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

from sqlalchemy import Select, func

from app.db.base import Base
from app.db.types import utcnow
from app.errors import Conflict, ValidationFailed
from app.repositories.base import ScopedRepository

M = TypeVar("M", bound=Base)


def invalid_reference(field: str, detail: str) -> ValidationFailed:
    """A body field names something that does not exist here (or the caller may not see)."""
    return ValidationFailed(
        detail, errors=[{"loc": ["body", field], "msg": detail, "type": "invalid_reference"}]
    )


class CatalogRepository(ScopedRepository[M]):
    # A boolean the API writes (e.g. "done") and the timestamp column that records it.
    timestamp_flags: ClassVar[dict[str, str]] = {}

    def search(self, query: str | None, *, include_deleted: bool) -> Select[tuple[M]]:
        statement = self.select(include_deleted=include_deleted)
        if query:
            name = func.lower(self.model.name)
            statement = statement.where(name.contains(query.lower(), autoescape=True))
        return statement

    async def update(self, row: M, values: Mapping[str, Any]) -> M:
        values = dict(values)
        for flag, column in self.timestamp_flags.items():
            if flag in values:
                # Setting a flag that is already on keeps the moment it was first set.
                values[column] = (getattr(row, column) or utcnow()) if values.pop(flag) else None
        return await super().update(row, values)


class ArchivableRepository(CatalogRepository[M]):
    """Archived rows stay readable and keep reporting, but nothing new may use them."""

    timestamp_flags = {"archived": "archived_at"}
    archived_detail: ClassVar[str]

    def search(
        self, query: str | None, *, include_deleted: bool, archived: bool = False
    ) -> Select[tuple[M]]:
        statement = super().search(query, include_deleted=include_deleted)
        archived_at = self.model.archived_at
        return statement.where(archived_at.is_not(None) if archived else archived_at.is_(None))

    async def get_assignable(self, row_id: uuid.UUID, *, field: str) -> M:
        """The live row that `field` of a request body names, if it can take something new."""
        row = await self.get_or_none(row_id)
        if row is None:
            raise invalid_reference(field, self.not_found_detail)
        if row.archived_at is not None:  # type: ignore[attr-defined]
            raise Conflict(self.archived_detail)
        return row
