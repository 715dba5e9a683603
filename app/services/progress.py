"""A project's progress against its estimate and budget, and the events that mark it.

A project tracks the seconds of its finished, live entries; it spends the billable ones at
each entry's rate (the reports' amounts). Crossing 80% or 100% of the estimate or of the
budget records `project.estimate_reached` or `project.budget_reached`, once per write that
crosses, in that write's transaction: so they commit, roll back and reach webhooks with it.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.db import events
from app.services.reports import amount_cents

THRESHOLDS = (80, 100)


@dataclass(frozen=True, slots=True)
class Share:
    """What entries give a project: seconds, and billable seconds times cents per hour."""

    seconds: int = 0
    rate_seconds: int = 0

    def __add__(self, other: "Share") -> "Share":
        return Share(self.seconds + other.seconds, self.rate_seconds + other.rate_seconds)

    def __sub__(self, other: "Share") -> "Share":
        return Share(self.seconds - other.seconds, self.rate_seconds - other.rate_seconds)


NOTHING = Share()


def share_of(
    start_at: datetime, end_at: datetime | None, billable: bool, rate_cents: int | None
) -> Share:
    """One entry's share; a running entry has none yet."""
    if end_at is None:
        return NOTHING
    seconds = int((end_at - start_at).total_seconds())
    rate = rate_cents if billable and rate_cents is not None else 0
    return Share(seconds, seconds * rate)


@dataclass(frozen=True, slots=True)
class Targets:
    estimate_seconds: int | None
    budget_cents: int | None

    def __bool__(self) -> bool:
        return self.estimate_seconds is not None or self.budget_cents is not None


def crossed(before: int, after: int, target: int) -> list[int]:
    """The percentages of `target` that `after` reaches and `before` did not."""
    return [percent for percent in THRESHOLDS if before * 100 < target * percent <= after * 100]


def record_crossings(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    project_id: uuid.UUID,
    targets: Targets,
    before: Share,
    after: Share,
) -> None:
    """Record an event for each threshold the change from `before` to `after` crossed."""
    if targets.estimate_seconds is not None:
        for percent in crossed(before.seconds, after.seconds, targets.estimate_seconds):
            _record(
                session,
                workspace_id,
                project_id,
                "project.estimate_reached",
                {
                    "percent": percent,
                    "estimate_seconds": targets.estimate_seconds,
                    "tracked_seconds": after.seconds,
                },
            )
    if targets.budget_cents is not None:
        spent_before, spent = amount_cents(before.rate_seconds), amount_cents(after.rate_seconds)
        for percent in crossed(spent_before, spent, targets.budget_cents):
            _record(
                session,
                workspace_id,
                project_id,
                "project.budget_reached",
                {"percent": percent, "budget_cents": targets.budget_cents, "spent_cents": spent},
            )


def _record(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    project_id: uuid.UUID,
    type: str,
    data: dict[str, int],
) -> None:
    events.record(
        session,
        workspace_id=workspace_id,
        type=type,
        subject_type="project",
        subject_id=project_id,
        data={"object": {"id": project_id, **data}},
        project_id=project_id,
    )
