"""Declarative base with a naming convention, and the mixins every model builds on."""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, MetaData, Uuid, text
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from app.db.types import UTCDateTime, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


@dataclass(frozen=True)
class EventSubject:
    """Declared by a model whose changes are recorded as events (`app.db.events`).

    `name` starts each event type (`client.created`); `id_attribute` names the subject's id
    as the API names it; `hidden` columns never enter an event's data; `collections` adds
    the ids of a loaded relationship (`{"tag_ids": "tags"}`); a `timed` subject (an entry)
    that starts without an end or gets one is `timer.started` or `timer.stopped`. A subject
    with a `state_field` is named by its state: created, it is `<name>.<state>`
    (`approval.submitted`); a change of that field is `<name>.<new state>`
    (`approval.approved`), so the states are past participles.
    """

    name: str
    id_attribute: str = "id"
    hidden: frozenset[str] = frozenset()
    collections: Mapping[str, str] = field(default_factory=dict)
    timed: bool = False
    state_field: str | None = None


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UUIDPrimaryKeyMixin:
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False
    )


class SoftDeleteMixin:
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class VersionedMixin:
    """Optimistic concurrency: the ORM bumps `version` on every UPDATE and checks it."""

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, object]:
        return {"version_id_col": cls.__table__.c.version}


class Resource(UUIDPrimaryKeyMixin, TimestampMixin, SoftDeleteMixin, VersionedMixin):
    """A user-facing, editable row: UUID key, timestamps, soft delete and a version."""


class InWorkspaceMixin:
    """A row that lives inside one workspace; repositories scope every query by it."""

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))


def unique_among_live(table: str, *columns: str) -> Index:
    """A unique index that ignores soft-deleted rows, so a deleted name can be reused."""
    live = text("deleted_at IS NULL")
    return Index(
        f"uq_{table}_{'_'.join(columns)}_live",
        *columns,
        unique=True,
        postgresql_where=live,
        sqlite_where=live,
    )
