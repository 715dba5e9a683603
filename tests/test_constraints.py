"""Each database rule rejects bad data, on both databases."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Client, Project, Tag, Task, TimeEntry
from app.db.types import utcnow
from tests.factories import (
    make_client,
    make_entry,
    make_project,
    make_tag,
    make_task,
    make_user,
    make_workspace,
)


async def _rejected(session: AsyncSession, row: object) -> None:
    with pytest.raises(IntegrityError):
        async with session.begin_nested():
            session.add(row)
            await session.flush()


async def test_live_project_names_are_unique_until_soft_deleted(session: AsyncSession) -> None:
    workspace = await make_workspace(session)
    first = await make_project(session, workspace, name="Website")

    await _rejected(session, Project(workspace_id=workspace.id, name="Website"))
    first.deleted_at = utcnow()
    await session.flush()
    again = await make_project(session, workspace, name="Website")
    assert again.id != first.id
    other_workspace = await make_workspace(session)
    await make_project(session, other_workspace, name="Website")


async def test_live_names_unique_for_clients_tags_and_tasks(session: AsyncSession) -> None:

    workspace = await make_workspace(session)
    await make_client(session, workspace, name="Acme")
    await _rejected(session, Client(workspace_id=workspace.id, name="Acme"))
    await make_tag(session, workspace, name="urgent")
    await _rejected(session, Tag(workspace_id=workspace.id, name="urgent"))
    project = await make_project(session, workspace)
    await make_task(session, project, name="Design")
    await _rejected(session, Task(workspace_id=workspace.id, project_id=project.id, name="Design"))


async def test_one_running_entry_per_user_across_workspaces(session: AsyncSession) -> None:
    user = await make_user(session)
    first, second = await make_workspace(session, owner=user), await make_workspace(session)
    start = datetime(2024, 5, 1, 9, tzinfo=UTC)
    running = await make_entry(session, first, user, start_at=start, end_at=None)
    await _rejected(
        session, TimeEntry(workspace_id=second.id, user_id=user.id, start_at=start, end_at=None)
    )
    running.end_at = start + timedelta(hours=1)
    await session.flush()
    await make_entry(session, second, user, start_at=start + timedelta(hours=2), end_at=None)


async def test_end_must_be_after_start(session: AsyncSession) -> None:
    workspace = await make_workspace(session)
    user = await make_user(session)
    start = datetime(2024, 5, 1, 9, tzinfo=UTC)
    await _rejected(
        session,
        TimeEntry(workspace_id=workspace.id, user_id=user.id, start_at=start, end_at=start),
    )
    await _rejected(
        session,
        TimeEntry(
            workspace_id=workspace.id,
            user_id=user.id,
            start_at=start,
            end_at=start - timedelta(minutes=1),
        ),
    )


async def test_task_and_project_must_belong_together(session: AsyncSession) -> None:
    workspace = await make_workspace(session)
    user = await make_user(session)
    project, other_project = (
        await make_project(session, workspace),
        await make_project(session, workspace),
    )
    task = await make_task(session, project)
    start = datetime(2024, 5, 1, 9, tzinfo=UTC)
    values = {
        "workspace_id": workspace.id,
        "user_id": user.id,
        "start_at": start,
        "end_at": start + timedelta(hours=1),
    }
    await _rejected(session, TimeEntry(project_id=other_project.id, task_id=task.id, **values))
    await _rejected(session, TimeEntry(task_id=task.id, **values))
    foreign_project = await make_project(session, await make_workspace(session))
    await _rejected(session, TimeEntry(project_id=foreign_project.id, **values))


async def test_external_id_unique_per_workspace_and_source(session: AsyncSession) -> None:
    workspace = await make_workspace(session)
    user = await make_user(session)
    start = datetime(2024, 5, 1, 9, tzinfo=UTC)
    await make_entry(session, workspace, user, start_at=start, source="import", external_id="t-1")
    await _rejected(
        session,
        TimeEntry(
            workspace_id=workspace.id,
            user_id=user.id,
            start_at=start,
            end_at=start + timedelta(hours=1),
            source="import",
            external_id="t-1",
        ),
    )
    await make_entry(session, workspace, user, start_at=start, source="api", external_id="t-1")


async def test_datetimes_come_back_aware_in_utc(session: AsyncSession) -> None:
    workspace = await make_workspace(session)
    user = await make_user(session)
    local = datetime(2024, 3, 31, 1, 30, tzinfo=timezone(timedelta(hours=2)))
    entry = await make_entry(session, workspace, user, start_at=local)
    session.expunge_all()
    loaded = (await session.scalars(select(TimeEntry).where(TimeEntry.id == entry.id))).one()
    assert loaded.start_at.tzinfo is not None
    assert loaded.start_at.utcoffset() == timedelta(0)
    assert loaded.start_at == local
    assert loaded.start_at.hour == 23
    assert loaded.created_at.utcoffset() == timedelta(0)


async def test_naive_datetimes_are_refused(session: AsyncSession) -> None:
    workspace = await make_workspace(session)
    user = await make_user(session)
    with pytest.raises(Exception, match="naive datetime"):
        await make_entry(session, workspace, user, start_at=datetime(2024, 1, 1, 9))
