"""Shared by the time-entry and timer tests: URLs, instants and tagging."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Tag, TimeEntry, Workspace, time_entry_tags

MONDAY = datetime(2024, 4, 22, tzinfo=UTC)


def entries_url(workspace: Workspace) -> str:
    return f"/api/v1/workspaces/{workspace.id}/time-entries"


def timer_url(workspace: Workspace, action: str) -> str:
    return f"/api/v1/workspaces/{workspace.id}/timer/{action}"


def at(hour: float, day: int = 0) -> datetime:
    """An instant in the test week: `day` days after Monday, at `hour` UTC."""
    return MONDAY + timedelta(days=day, hours=hour)


def iso(hour: float, day: int = 0) -> str:
    return at(hour, day).isoformat()


async def tag_entry(session: AsyncSession, entry: TimeEntry, *tags: Tag) -> None:
    if not tags:
        return
    await session.execute(
        insert(time_entry_tags),
        [
            {"time_entry_id": entry.id, "tag_id": tag.id, "workspace_id": entry.workspace_id}
            for tag in tags
        ],
    )
