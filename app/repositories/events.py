"""The workspace's events, as the audit log, webhooks and live updates read them."""

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Event, EventCounter, Project
from app.repositories.base import Repository, ScopedRepository
from app.repositories.projects import visible_to

# Subjects every member sees the events of, and those that hang off a project.
_OPEN_CATALOG = ("client", "tag")
_PROJECT_CATALOG = ("project", "task")
# Subjects a member sees the events of when they are about their own time.
_OWN = ("time_entry", "approval")


@dataclass(frozen=True)
class EventFilters:
    # Exact types, or a kind's every event as `time_entry.*`.
    types: Sequence[str] = ()
    subject_id: uuid.UUID | None = None
    actor_id: uuid.UUID | None = None
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None
    after_sequence: int | None = None


def type_condition(patterns: Sequence[str]) -> ColumnElement[bool]:
    """Events whose type is one of `patterns`, where `kind.*` stands for a kind's every type."""
    exact = [pattern for pattern in patterns if not pattern.endswith(".*")]
    kinds = [pattern.removesuffix("*") for pattern in patterns if pattern.endswith(".*")]
    conditions = [Event.type.startswith(kind, autoescape=True) for kind in kinds]
    if exact:
        conditions.append(Event.type.in_(exact))
    return or_(*conditions)


class EventRepository(ScopedRepository[Event]):
    """Events of one workspace; built with `viewer_id`, only those that member may read:
    the events of their own entries and approvals, and of the clients, tags, projects and
    tasks they see."""

    model = Event
    not_found_detail = "Event not found."

    def __init__(
        self, session: AsyncSession, workspace_id: uuid.UUID, *, viewer_id: uuid.UUID | None = None
    ) -> None:
        super().__init__(session, workspace_id)
        self.viewer_id = viewer_id

    def scope(self, statement: Select[tuple[Event]]) -> Select[tuple[Event]]:
        statement = super().scope(statement)
        if self.viewer_id is None:
            return statement
        seen_projects = select(Project.id).where(
            Project.workspace_id == self.workspace_id, visible_to(self.viewer_id)
        )
        return statement.where(
            or_(
                and_(Event.subject_type.in_(_OWN), Event.user_id == self.viewer_id),
                Event.subject_type.in_(_OPEN_CATALOG),
                and_(
                    Event.subject_type.in_(_PROJECT_CATALOG),
                    Event.project_id.in_(seen_projects),
                ),
            )
        )

    async def readable(self, ids: Sequence[uuid.UUID]) -> list[Event]:
        """Those of the events `ids` this repository may read."""
        return list(await self.session.scalars(self.select().where(Event.id.in_(ids))))

    def search(self, filters: EventFilters) -> Select[tuple[Event]]:
        statement = self.select()
        if filters.types:
            statement = statement.where(type_condition(filters.types))
        if filters.subject_id is not None:
            statement = statement.where(Event.subject_id == filters.subject_id)
        if filters.actor_id is not None:
            statement = statement.where(Event.actor_id == filters.actor_id)
        if filters.occurred_from is not None:
            statement = statement.where(Event.occurred_at >= filters.occurred_from)
        if filters.occurred_to is not None:
            statement = statement.where(Event.occurred_at < filters.occurred_to)
        if filters.after_sequence is not None:
            statement = statement.where(Event.sequence > filters.after_sequence)
        return statement

    async def following(self, after_sequence: int, limit: int) -> Sequence[Event]:
        """Up to `limit` events numbered above `after_sequence`, oldest first."""
        statement = self.search(EventFilters(after_sequence=after_sequence))
        rows = await self.session.scalars(statement.order_by(Event.sequence).limit(limit))
        return rows.all()


class EventCounterRepository(Repository[EventCounter]):
    """The last sequence number each workspace gave out: where a reader that wants only
    what comes next starts, and what a poller compares to see that something came."""

    model = EventCounter

    async def last_sequences(self, workspace_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, int]:
        statement = select(EventCounter.workspace_id, EventCounter.last_sequence).where(
            EventCounter.workspace_id.in_(workspace_ids)
        )
        return {row[0]: row[1] for row in await self.session.execute(statement)}

    async def last_sequence(self, workspace_id: uuid.UUID) -> int:
        """0 for a workspace that has no event yet."""
        return (await self.last_sequences([workspace_id])).get(workspace_id, 0)


class EventRetention(Repository[Event]):
    """Every workspace's events, for removing those past the retention period."""

    model = Event

    async def prune(self, before: datetime) -> int:
        result = await self.session.execute(delete(Event).where(Event.occurred_at < before))
        return int(result.rowcount)  # type: ignore[attr-defined]
