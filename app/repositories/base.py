"""The one repository base every domain repository builds on."""

import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from app.db.base import Base, SoftDeleteMixin
from app.db.integrity import Violation, describe
from app.db.prepared import Prepared, read_rows
from app.db.types import utcnow
from app.errors import Duplicate, InvalidInput, NotFound, ReferenceMissing, StaleVersion
from app.pagination import PageParams, PageResult, SortKey, paginate

M = TypeVar("M", bound=Base)


class Repository(Generic[M]):
    model: ClassVar[type[Any]]
    # Shown when a unique rule rejects a write; domain repositories say which rule.
    conflict_detail: ClassVar[str] = "This conflicts with an existing record."
    not_found_detail: ClassVar[str] = "Not found."

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # Reading

    def select(self, *, include_deleted: bool = False) -> Select[tuple[M]]:
        statement = select(self.model)
        if not include_deleted and issubclass(self.model, SoftDeleteMixin):
            statement = statement.where(self.model.deleted_at.is_(None))
        return self.scope(statement)

    def scope(self, statement: Select[tuple[M]]) -> Select[tuple[M]]:
        """Narrow every query to what this repository may see; tenancy lives here."""
        return statement

    async def read(
        self, prepared: Prepared, parameters: Mapping[str, Any] | None = None
    ) -> list[Any]:
        """The rows of a Core statement over table columns, run on the unit of work's
        connection: no ORM compilation, identity map or object loading on the way. Reads
        that render rows (not objects a write changes) go this way."""
        return await read_rows(self.session, prepared, parameters or {})

    async def get_or_none(
        self, row_id: uuid.UUID, *, include_deleted: bool = False, options: tuple[Any, ...] = ()
    ) -> M | None:
        statement = self.select(include_deleted=include_deleted).where(self.model.id == row_id)
        if options:
            statement = statement.options(*options)
        # Unique: a joined collection repeats the row once per item.
        return (await self.session.scalars(statement)).unique().one_or_none()

    async def get(
        self, row_id: uuid.UUID, *, include_deleted: bool = False, options: tuple[Any, ...] = ()
    ) -> M:
        row = await self.get_or_none(row_id, include_deleted=include_deleted, options=options)
        if row is None:
            raise self.not_found()
        return row

    def not_found(self) -> NotFound:
        return NotFound(self.not_found_detail)

    async def list(
        self,
        params: PageParams,
        sort: SortKey,
        statement: Select[tuple[M]] | None = None,
    ) -> PageResult[M]:
        if statement is None:
            statement = self.select()
        return await paginate(self.session, statement, sort, params)

    # Writing

    async def create(self, **values: Any) -> M:
        row = self.model(**values)
        self.session.add(row)
        await self.flush()
        return row

    async def update(self, row: M, values: Mapping[str, Any]) -> M:
        for name, value in values.items():
            setattr(row, name, value)
        await self.flush()
        return row

    async def soft_delete(self, row: M) -> M:
        return await self.update(row, {"deleted_at": utcnow()})

    async def restore(self, row: M) -> M:
        if row.deleted_at is None:  # type: ignore[attr-defined]
            return row
        return await self.update(row, {"deleted_at": None})

    async def delete(self, row: M) -> None:
        await self.session.delete(row)
        await self.flush()

    async def flush(self) -> None:
        """Send pending writes, turning the database's refusals into storage-neutral errors.

        No savepoint: a refused write fails the whole unit of work. Callers that want one
        item of many to fail alone (bulk requests) open a savepoint around that item.
        """
        with self.refusals():
            await self.session.flush()

    @contextmanager
    def refusals(self) -> Iterator[None]:
        """The database's refusals of the writes sent inside, as storage-neutral errors."""
        try:
            yield
        except IntegrityError as exc:
            problem = describe(exc)
            if problem.violation is Violation.UNIQUE:
                raise Duplicate(self.conflict_detail) from exc
            if problem.violation is Violation.FOREIGN_KEY:
                raise ReferenceMissing() from exc
            raise InvalidInput(f"The data breaks a rule ({problem.subject}).") from exc
        except StaleDataError as exc:
            raise StaleVersion("The resource was changed by another request.") from exc


class ScopedRepository(Repository[M]):
    """A repository bound to one workspace: it cannot read or write outside it."""

    def __init__(self, session: AsyncSession, workspace_id: uuid.UUID) -> None:
        super().__init__(session)
        self.workspace_id = workspace_id

    def scope(self, statement: Select[tuple[M]]) -> Select[tuple[M]]:
        return statement.where(self.model.workspace_id == self.workspace_id)

    async def create(self, **values: Any) -> M:
        values["workspace_id"] = self.workspace_id
        return await super().create(**values)
