"""Time entries summed in SQL, grouped by up to two dimensions; never loaded one by one."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Row,
    String,
    and_,
    case,
    func,
    literal,
    literal_column,
    null,
    type_coerce,
)
from sqlalchemy.sql import Join

from app.db.expressions import elapsed_seconds
from app.db.models import Approval, Client, Project, Tag, Task, TimeEntry, User, time_entry_tags
from app.repositories.closed_time import covers
from app.repositories.time_entries import EntryFilters, TimeEntryRepository


@dataclass(frozen=True)
class Measure:
    """How each entry counts: running ones up to `now` (None: left out), and each entry's
    seconds rounded to a multiple of `step_seconds` ("up", "down" or "nearest")."""

    now: datetime | None = None
    rounding: str | None = None
    step_seconds: int | None = None


@dataclass(frozen=True)
class Dimension:
    """One way of grouping: the key and label of each entry's group, and the tables they
    come from. Time buckets group by the index of the boundary range a start falls in."""

    key: ColumnElement[Any]
    # None where the key is shown as it is (a flag, a text, a bucket).
    label: ColumnElement[Any] | None = None
    joins: tuple[str, ...] = ()


def _joined(joins: Sequence[str]) -> FromClause:
    # Each join once, in an order that satisfies what the later ones refer to.
    table: Join | Any = TimeEntry.__table__
    ons = {
        "project": (Project, Project.id == TimeEntry.project_id),
        "client": (Client, Client.id == Project.client_id),
        "task": (Task, Task.id == TimeEntry.task_id),
        "user": (User, User.id == TimeEntry.user_id),
        "tag_link": (time_entry_tags, time_entry_tags.c.time_entry_id == TimeEntry.id),
        "tag": (Tag, Tag.id == time_entry_tags.c.tag_id),
        # At most one: a person's submitted and approved periods never overlap.
        "approval": (Approval, covers(Approval, TimeEntry)),  # type: ignore[arg-type]
    }
    for name in ons:
        if name in joins:
            target, on = ons[name]
            table = table.outerjoin(target, on)
    return table


DIMENSIONS: dict[str, Dimension] = {
    "project": Dimension(TimeEntry.project_id, Project.name, ("project",)),
    "client": Dimension(Project.client_id, Client.name, ("project", "client")),
    "task": Dimension(TimeEntry.task_id, Task.name, ("task",)),
    "user": Dimension(TimeEntry.user_id, User.full_name, ("user",)),
    "tag": Dimension(time_entry_tags.c.tag_id, Tag.name, ("tag_link", "tag")),
    "billable": Dimension(TimeEntry.billable),
    "description": Dimension(TimeEntry.description),
    # `approved`, `submitted`, or `open` for an entry in neither.
    "approval": Dimension(
        func.coalesce(type_coerce(Approval.state, String), literal_column("'open'")),
        joins=("approval",),
    ),
}


def bucket_dimension(ends: Sequence[datetime]) -> Dimension:
    """Buckets by start, given where each bucket ends: 0 before `ends[0]`, 1 before
    `ends[1]`, and so on."""
    whens = [(TimeEntry.start_at < end, index) for index, end in enumerate(ends)]
    return Dimension(case(*whens, else_=len(ends)))


class ReportRepository:
    def __init__(self, entries: TimeEntryRepository) -> None:
        self.entries = entries
        self.session = entries.session

    async def start_range(
        self, filters: EntryFilters, measure: Measure
    ) -> tuple[datetime | None, datetime | None]:
        """The first and last start among the entries the report covers."""
        statement = self._covered(
            filters, measure, func.min(TimeEntry.start_at), func.max(TimeEntry.start_at)
        )
        first, last = (await self.session.execute(statement)).one()
        return first, last

    async def summarize(
        self, filters: EntryFilters, measure: Measure, dimensions: Sequence[Dimension]
    ) -> list[Row[Any]]:
        """One row per group: each dimension's key and label, then seconds, billable
        seconds, and billable seconds times rate (cent-seconds per hour)."""
        seconds = self._seconds(measure)
        billable = TimeEntry.billable.is_(True)
        columns: list[ColumnElement[Any]] = []
        for dimension in dimensions:
            columns += [dimension.key, null() if dimension.label is None else dimension.label]
        columns += [
            func.coalesce(func.sum(seconds), 0),
            func.coalesce(func.sum(case((billable, seconds), else_=0)), 0),
            func.coalesce(
                func.sum(
                    case(
                        (and_(billable, TimeEntry.hourly_rate_cents.is_not(None)), seconds),
                        else_=0,
                    )
                    * func.coalesce(TimeEntry.hourly_rate_cents, 0)
                ),
                0,
            ),
        ]
        joins = [name for dimension in dimensions for name in dimension.joins]
        statement = self._covered(filters, measure, *columns).select_from(_joined(joins))
        keys = [
            column
            for dimension in dimensions
            for column in (dimension.key, dimension.label)
            if column is not None
        ]
        if keys:
            statement = statement.group_by(*keys)
        return list((await self.session.execute(statement)).all())

    def _covered(self, filters: EntryFilters, measure: Measure, *columns: Any) -> Any:
        statement = self.entries.filtered(filters, *columns)
        if measure.now is None:
            statement = statement.where(TimeEntry.end_at.is_not(None))
        return statement

    @staticmethod
    def _seconds(measure: Measure) -> ColumnElement[int]:
        end = (
            TimeEntry.end_at
            if measure.now is None
            else func.coalesce(TimeEntry.end_at, literal(measure.now, TimeEntry.end_at.type))
        )
        seconds: ColumnElement[int] = elapsed_seconds(TimeEntry.start_at, end)
        step = measure.step_seconds
        if measure.rounding is None or step is None:
            return seconds
        # Integer division on both databases: whole steps, then back to seconds.
        if measure.rounding == "up":
            return ((seconds + (step - 1)) // step) * step
        if measure.rounding == "down":
            return (seconds // step) * step
        return ((seconds + step // 2) // step) * step
