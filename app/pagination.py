"""Keyset pagination with opaque cursors: the one way every list endpoint pages."""

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Column, ColumnElement, Select, and_, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.db.connection import connection_of
from app.db.prepared import Prepared
from app.errors import FieldProblem, InvalidCursor
from app.instants import supported_utc

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

T = TypeVar("T")
M = TypeVar("M")


@dataclass(frozen=True)
class PageParams:
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None
    include_total: bool = False


@dataclass(frozen=True)
class SortKey:
    """An ordering by one column then the primary key, both in one direction."""

    # A model's attribute (lists of ORM objects) or a table's column (lists of rows).
    column: InstrumentedAttribute[Any] | Column[Any]
    id_column: InstrumentedAttribute[Any] | Column[Any]
    descending: bool = False

    def order_by(self) -> list[ColumnElement[Any]]:
        if self.descending:
            return [self.column.desc(), self.id_column.desc()]
        return [self.column.asc(), self.id_column.asc()]

    def after(self, value: Any, row_id: uuid.UUID) -> ColumnElement[bool]:
        # Spelled out rather than as a row-value comparison so both databases use the index;
        # the leading range on the column alone lets the index seek to the page instead of
        # scanning every row before it.
        if self.descending:
            return and_(self.column <= value, or_(self.column < value, self.id_column < row_id))
        return and_(self.column >= value, or_(self.column > value, self.id_column > row_id))


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def encode_cursor(sort: SortKey, value: Any, row_id: uuid.UUID) -> str:
    payload = {"k": sort.column.key, "v": _encode_value(value), "id": str(row_id)}
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(sort: SortKey, cursor: str) -> tuple[Any, uuid.UUID]:
    """The sort value and row id a cursor of `sort` holds; any other text, whatever it was
    tampered into, is `InvalidCursor`."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(payload, dict) or payload.keys() != {"k", "v", "id"}:
            raise ValueError("not a cursor")
        if payload["k"] != sort.column.key or not isinstance(payload["id"], str):
            raise ValueError("not a cursor of this list")
        return _sort_value(sort, payload["v"]), uuid.UUID(payload["id"])
    except (ValueError, RecursionError, binascii.Error) as exc:
        raise InvalidCursor(problems=[FieldProblem(("cursor",), "invalid cursor")]) from exc


def _sort_value(sort: SortKey, raw: Any) -> Any:
    """The value of the sort column `raw` stands for; ValueError if it cannot be one.
    Every sort column is NOT NULL, so null is refused too. Numbers are kept as numbers;
    every other value as text."""
    python_type = sort.column.type.python_type
    if python_type is int:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ValueError("the sort value is not a whole number")
        return raw
    if not isinstance(raw, str):
        raise ValueError("the sort value is not text")
    if python_type is datetime:
        value = datetime.fromisoformat(raw)
        if value.tzinfo is None:
            raise ValueError("the sort value has no offset")
        return supported_utc(value)
    if python_type is uuid.UUID:
        return uuid.UUID(raw)
    if python_type is str:
        # Text the database could not take (NUL, lone surrogates) matches no row anyway.
        if "\x00" in raw:
            raise ValueError("the sort value holds NUL")
        raw.encode()
        return raw
    raise ValueError("the sort column cannot be paged by")


@dataclass(frozen=True)
class Shaped:
    """A list's statement known by its shape: `build` makes it with named bind parameters,
    the same for every list of that shape, and `values` fills them in. Its pages are
    prepared (`app.db.prepared`) once per shape, sort and kind of page."""

    shape: Hashable
    build: Callable[[], Select[Any]]
    values: Mapping[str, Any]


# Prepared pages by shape; the oldest shape goes when a new one would pass the limit.
_PAGES: dict[Hashable, Prepared] = {}
_MAX_SHAPES = 512


def _prepared_page(shaped: Shaped, sort: SortKey, *, after: bool) -> Prepared:
    key = (shaped.shape, sort, after)
    found = _PAGES.get(key)
    if found is None:
        statement = shaped.build()
        if after:
            statement = statement.where(sort.after(bindparam("after_value"), bindparam("after_id")))
        statement = statement.order_by(*sort.order_by()).limit(bindparam("page_limit"))
        if len(_PAGES) >= _MAX_SHAPES:
            del _PAGES[next(iter(_PAGES))]
        found = _PAGES[key] = Prepared(statement)
    return found


@dataclass
class PageResult(Generic[T]):
    items: list[T]
    next_cursor: str | None
    total: int | None = None


def _selects_one_entity(statement: Select[Any]) -> bool:
    descriptions = statement.column_descriptions
    return len(descriptions) == 1 and isinstance(descriptions[0]["expr"], type)


async def _execute(session: AsyncSession, statement: Select[Any], *, entity: bool) -> Any:
    """ORM objects through the session; plain rows straight from its connection, with no
    ORM compilation or loading on the way."""
    if entity:
        return await session.execute(statement)
    connection = await connection_of(session)
    return await connection.execute(statement)


async def paginate(
    session: AsyncSession,
    statement: Select[tuple[M]] | Shaped,
    sort: SortKey,
    params: PageParams,
) -> PageResult[M]:
    """Run `statement` one page at a time; the statement carries filters, never ordering."""
    if isinstance(statement, Shaped):
        return await _paginate_shaped(session, statement, sort, params)
    total = None
    # Asked once: the answer walks the statement's columns through the ORM.
    entity = _selects_one_entity(statement)
    if params.include_total:
        count = select(func.count()).select_from(statement.order_by(None).subquery())
        total = (await _execute(session, count, entity=False)).scalar_one()
    page_statement = statement
    if params.cursor:
        value, row_id = decode_cursor(sort, params.cursor)
        page_statement = page_statement.where(sort.after(value, row_id))
    page_statement = page_statement.order_by(*sort.order_by()).limit(params.limit + 1)
    result = await _execute(session, page_statement, entity=entity)
    # One ORM entity comes back as objects, columns as rows; both read by attribute below.
    rows = list(result.scalars() if entity else result.all())
    return _page_of(rows, sort, params, total)


async def _paginate_shaped(
    session: AsyncSession, shaped: Shaped, sort: SortKey, params: PageParams
) -> PageResult[Any]:
    connection = await connection_of(session)
    total = None
    if params.include_total:
        counted = shaped.build().params(shaped.values).order_by(None).subquery()
        total = (await connection.execute(select(func.count()).select_from(counted))).scalar_one()
    values = {**shaped.values, "page_limit": params.limit + 1}
    # An empty cursor, like none, asks for the first page.
    after = bool(params.cursor)
    if after:
        values["after_value"], values["after_id"] = decode_cursor(sort, params.cursor)
    prepared = _prepared_page(shaped, sort, after=after)
    return _page_of(await prepared.rows(connection, values), sort, params, total)


def _page_of(
    rows: list[Any], sort: SortKey, params: PageParams, total: int | None
) -> PageResult[Any]:
    next_cursor = None
    if len(rows) > params.limit:
        rows = rows[: params.limit]
        last = rows[-1]
        next_cursor = encode_cursor(sort, getattr(last, sort.column.key), last.id)
    return PageResult(items=rows, next_cursor=next_cursor, total=total)
