"""The rules of a time entry as pure functions over references loaded beforehand.

The time-entry service, the seed and the importer load what entries point at (in bulk where
they can) and ask these functions; nothing here touches storage, so one rule serves them all.
"""

import uuid
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import accumulate

from app.errors import Conflict, FieldProblem, InvalidInput, ReferenceMissing

INVALID_REFERENCE = "invalid_reference"
PROJECT_NOT_FOUND = "Project not found."
TASK_NOT_FOUND = "Task not found."


@dataclass(frozen=True, slots=True)
class ProjectFacts:
    """A project as one user meets it."""

    id: uuid.UUID
    is_billable: bool
    hourly_rate_cents: int | None
    # That user's own rate on the project, if they are one of its members.
    member_rate_cents: int | None
    # Public, or private with that user among its members.
    visible: bool
    # The project or its client is archived.
    archived: bool
    deleted: bool
    # Targets whose crossing records an event (`app.services.progress`).
    estimate_seconds: int | None = None
    budget_cents: int | None = None


@dataclass(frozen=True, slots=True)
class TaskFacts:
    """A task as one user meets it."""

    id: uuid.UUID
    project_id: uuid.UUID
    # Its project is public, or private with that user among its members.
    visible: bool


def hourly_rate(
    *,
    billable: bool,
    project: ProjectFacts | None,
    member_rate_cents: int | None,
    default_rate_cents: int,
) -> int | None:
    """The rate snapshot of an entry: the user's rate on the project, else the project's
    rate, else the user's rate in the workspace, else the workspace default; none when the
    entry is not billable."""
    if not billable:
        return None
    if project is not None:
        if project.member_rate_cents is not None:
            return project.member_rate_cents
        if project.hourly_rate_cents is not None:
            return project.hourly_rate_cents
    if member_rate_cents is not None:
        return member_rate_cents
    return default_rate_cents


def assignable_project(project: ProjectFacts | None, *, sees_all: bool) -> ProjectFacts:
    """A project that new time may go on: live, seen by the one tracking, and not archived."""
    if project is None or project.deleted or not (sees_all or project.visible):
        raise ReferenceMissing(PROJECT_NOT_FOUND, field="project_id", kind=INVALID_REFERENCE)
    if project.archived:
        raise Conflict("The project or its client is archived; it takes no new time.")
    return project


def task_project(
    task: TaskFacts | None, project_id: uuid.UUID | None, *, given: bool, sees_all: bool
) -> uuid.UUID:
    """The project an entry with this task is on; `given` says whether the input named one.

    A task alone names its project; with a project, it must be that project's task. A task
    of a project the user may not see is not found, in the same words as a missing one.
    """
    if task is None or not (sees_all or task.visible):
        raise ReferenceMissing(TASK_NOT_FOUND, field="task_id", kind=INVALID_REFERENCE)
    if not given:
        return task.project_id
    if project_id is None:
        raise InvalidInput("A task needs its project; project_id is null.", field="task_id")
    if project_id != task.project_id:
        raise InvalidInput("The task belongs to another project.", field="task_id")
    return project_id


def live_tags(requested: Sequence[uuid.UUID], live: set[uuid.UUID]) -> list[uuid.UUID]:
    """The requested tags, each once, when every one is a live tag of the workspace."""
    missing = [
        FieldProblem(("tag_ids", index), "Tag not found.", INVALID_REFERENCE)
        for index, tag_id in enumerate(requested)
        if tag_id not in live
    ]
    if missing:
        raise ReferenceMissing("Some tags were not found.", problems=missing)
    return list(dict.fromkeys(requested))


def check_interval(
    start_at: datetime,
    end_at: datetime | None,
    *,
    now: datetime,
    end_given: bool,
    start_changed: bool = True,
) -> None:
    """A finished entry ends after it starts; a running one has not started in the future
    (checked when its start is set, so that editing another field of it never fails)."""
    if end_at is not None and end_at <= start_at:
        field = "end_at" if end_given else "start_at"
        raise InvalidInput("end_at must be after start_at.", field=field)
    if end_at is None and start_changed and start_at > now:
        raise InvalidInput("A running entry cannot start in the future.", field="start_at")


def overlaps(
    start_at: datetime, end_at: datetime | None, other_start: datetime, other_end: datetime | None
) -> bool:
    """Whether two half-open intervals share time; no end means running, so unbounded.
    Entries that only touch (one ends when the next starts) do not overlap."""
    starts_before_other_ends = other_end is None or start_at < other_end
    ends_after_other_starts = end_at is None or end_at > other_start
    return starts_before_other_ends and ends_after_other_starts


# A running entry's end, for comparing: later than any instant.
_FOREVER = datetime.max.replace(tzinfo=UTC)


class TakenTime:
    """One user's time already taken, asked whether a new span overlaps any of it, as
    `overlaps` decides, in a binary search rather than a pass over every span.

    `stored` may overlap each other (entries written before overlaps were forbidden): for
    them the latest end reached by any span starting earlier is kept. The spans `take`
    adds are only those that overlapped nothing, so they never overlap each other: sorted
    by start, they are sorted by end too, and the last one starting before a new span's
    end is the only one that could reach into it."""

    def __init__(self, stored: Sequence[tuple[datetime, datetime | None]] = ()) -> None:
        ordered = sorted(stored, key=lambda span: span[0])
        self._stored_starts = [start for start, _ in ordered]
        self._reach = list(accumulate((end or _FOREVER for _, end in ordered), max))
        self._starts: list[datetime] = []
        self._ends: list[datetime] = []

    def overlaps(self, start_at: datetime, end_at: datetime | None) -> bool:
        limit = end_at or _FOREVER
        earlier = bisect_left(self._stored_starts, limit)
        if earlier and self._reach[earlier - 1] > start_at:
            return True
        earlier = bisect_left(self._starts, limit)
        return bool(earlier) and self._ends[earlier - 1] > start_at

    def take(self, start_at: datetime, end_at: datetime | None) -> None:
        """Add a span that overlaps nothing taken."""
        index = bisect_left(self._starts, start_at)
        self._starts.insert(index, start_at)
        self._ends.insert(index, end_at or _FOREVER)
