"""Prepared reads give the rows SQLAlchemy gives, whichever way they run."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from app.db.connection import POOLED_BY_TRANSACTION, driver_of
from app.db.models import TimeEntry, User, Workspace
from app.db.prepared import MAX_LIST_VARIANT, Prepared
from app.repositories.api_tokens import _LIVE_TOKEN_IN_WORKSPACE, ApiTokenRepository
from app.repositories.closed_time import _CLOSED_TIME
from app.repositories.entry_references import _LIVE_TAGS, _PROJECT, _PROJECT_AND_TAGS, _TASK
from app.repositories.time_entries import _one_entry
from app.repositories.users import _ACTIVE_USER_ALONE, _ACTIVE_USER_IN_WORKSPACE
from app.security import token_digest
from tests.factories import Team, make_entry, make_project, make_tag, make_task
from tests.tracking import tag_entry

pytestmark = pytest.mark.committed
_ENTRIES = TimeEntry.__table__
_USERS = User.__table__
# A write that names every column it sets, `updated_at` included.
_RENAME = Prepared(
    update(_USERS)
    .where(_USERS.c.id == bindparam("user_id"))
    .values(full_name=bindparam("name"), updated_at=func.now())
)


@asynccontextmanager
async def reading(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection as work that only reads gets it: in autocommit on PostgreSQL, where
    prepared reads go to the driver."""
    options = {"isolation_level": "AUTOCOMMIT"} if engine.dialect.name == "postgresql" else {}
    async with engine.execution_options(**options).connect() as connection:
        yield connection


async def both_ways(
    connection: AsyncConnection,
    prepared: Prepared,
    parameters: dict[str, Any],
    *,
    too_long: bool = False,
) -> list[tuple[Any, ...]]:
    """The prepared read's rows, checked against SQLAlchemy's rows of the same statement,
    field by field and with the same names."""
    rows = await prepared.rows(connection, parameters)
    expected = (await connection.execute(prepared.statement, parameters)).all()
    # On PostgreSQL the driver answered (unless an IN list was too long for it): its rows
    # are plain named tuples.
    on_driver = connection.dialect.name == "postgresql" and not too_long
    assert all(isinstance(row, tuple) is on_driver for row in rows)
    assert [tuple(row) for row in rows] == [tuple(row) for row in expected]
    for row, other in zip(rows, expected, strict=True):
        assert row._fields == other._fields
        for name in row._fields:
            assert getattr(row, name) == getattr(other, name)
            assert type(getattr(row, name)).__name__ == type(getattr(other, name)).__name__
    return [tuple(row) for row in rows]


async def test_entry_reads_match_sqlalchemy(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession], committed_team: Team
) -> None:
    team = committed_team
    async with sessionmaker() as session:
        project = await make_project(session, team.workspace)
        entry = await make_entry(
            session, team.workspace, team.member, project_id=project.id, description="ünï"
        )
        await tag_entry(session, entry, await make_tag(session, team.workspace))
        closed = await make_entry(
            session, team.workspace, team.member, start_at=entry.start_at - timedelta(days=1)
        )
        # The second entry is in closed time: its read says why (a literal list in the text).
        await session.execute(
            update(Workspace)
            .where(Workspace.id == team.workspace.id)
            .values(locked_before=entry.start_at - timedelta(hours=1))
        )
        await session.commit()
    async with reading(engine) as connection:
        for entry_id in (entry.id, closed.id):
            for own in (False, True):
                parameters = {
                    "workspace_id": team.workspace.id,
                    "entry_id": entry_id,
                    "viewer_id": team.member.id,
                }
                prepared = _one_entry(own=own, include_deleted=False)
                [row] = await both_ways(connection, prepared, parameters)
                assert row[0] == entry_id
                assert (row[-1] == "closed_period") is (entry_id == closed.id)


async def test_standing_reads_match_sqlalchemy(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession], committed_team: Team
) -> None:
    team = committed_team
    async with sessionmaker() as session:
        _, secret = await ApiTokenRepository(session).issue(team.member.id, "script", None)
        await session.commit()
    user = {"user_id": team.member.id}
    in_workspace = {**user, "workspace_id": team.workspace.id}
    token = {
        "token_hash": token_digest(secret),
        "now": team.workspace.created_at,  # a bound instant, as the driver takes it
        "workspace_id": team.workspace.id,
    }
    async with reading(engine) as connection:
        assert len(await both_ways(connection, _ACTIVE_USER_ALONE, user)) == 1
        assert len(await both_ways(connection, _ACTIVE_USER_IN_WORKSPACE, in_workspace)) == 1
        assert len(await both_ways(connection, _LIVE_TOKEN_IN_WORKSPACE, token)) == 1
        unknown = {**token, "token_hash": "x"}
        assert await both_ways(connection, _LIVE_TOKEN_IN_WORKSPACE, unknown) == []


async def test_reference_and_closed_time_reads_match_sqlalchemy(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession], committed_team: Team
) -> None:
    team = committed_team
    async with sessionmaker() as session:
        project = await make_project(session, team.workspace, hourly_rate_cents=4200)
        task = await make_task(session, project)
        tags = [await make_tag(session, team.workspace) for _ in range(3)]
        await session.commit()
    tag_ids = [tag.id for tag in tags]
    workspace = {"workspace_id": team.workspace.id}
    on = {**workspace, "project_id": project.id, "user_id": team.member.id}
    async with reading(engine) as connection:
        assert len(await both_ways(connection, _PROJECT, on)) == 1
        task_read = {**workspace, "task_id": task.id, "user_id": team.member.id}
        assert len(await both_ways(connection, _TASK, task_read)) == 1
        # IN lists of every length, and one past those compiled for the driver.
        for ids in ([], tag_ids[:1], tag_ids, [*tag_ids, *[uuid.uuid4()] * MAX_LIST_VARIANT]):
            too_long = len(ids) > MAX_LIST_VARIANT
            found = await both_ways(
                connection, _LIVE_TAGS, {**workspace, "tag_ids": ids}, too_long=too_long
            )
            assert {row[0] for row in found} == set(ids) & set(tag_ids)
            [(*_, live)] = await both_ways(
                connection, _PROJECT_AND_TAGS, {**on, "tag_ids": ids}, too_long=too_long
            )
            live_ids = {uuid.UUID(tag_id) for tag_id in live.split(",")} if live else set()
            assert live_ids == set(ids) & set(tag_ids)
        closed_time = {
            **workspace,
            "user_ids": [team.member.id, team.owner.id],
            "earliest": team.workspace.created_at,
            "latest": team.workspace.created_at,
        }
        assert len(await both_ways(connection, _CLOSED_TIME, closed_time)) == 1


async def test_a_read_goes_ahead_of_begin_and_a_lock_or_write_waits_for_it(
    engine: AsyncEngine, committed_team: Team, is_postgres: bool
) -> None:
    team = committed_team
    pooled_by_transaction = engine.sync_engine.get_execution_options().get(POOLED_BY_TRANSACTION)
    locking = select(_USERS.c.id).where(_USERS.c.id == bindparam("user_id")).with_for_update()
    lock = Prepared(locking)
    parameters = {"user_id": team.member.id}
    async with engine.connect() as connection:
        async with connection.begin() as transaction:
            # A read before SQLAlchemy's first statement goes to the driver outside the
            # transaction, which has not begun (behind PgBouncer it waits for BEGIN).
            [read] = await _ACTIVE_USER_ALONE.rows(connection, parameters)
            ahead = is_postgres and not pooled_by_transaction
            assert isinstance(read, tuple) is ahead
            driver = driver_of(connection)
            if ahead:
                assert not driver.is_in_transaction()
            # A lock is the transaction's: it runs through SQLAlchemy, which sends BEGIN
            # (unless the read, waiting for BEGIN, began the transaction already).
            [locked] = await lock.rows(connection, parameters)
            assert isinstance(locked, tuple) is (is_postgres and not ahead)
            # A write once the transaction has begun goes to the driver, inside it.
            await _RENAME.execute(connection, {**parameters, "name": "Renamed"})
            if is_postgres:
                assert driver.is_in_transaction()
            [renamed] = await _ACTIVE_USER_ALONE.rows(connection, parameters)
            assert renamed.user_full_name == "Renamed"
            await transaction.rollback()
        [after] = await _ACTIVE_USER_ALONE.rows(connection, parameters)
    assert after.user_full_name == read.user_full_name != "Renamed"


async def test_a_write_before_begin_runs_through_sqlalchemy_inside_the_transaction(
    engine: AsyncEngine, committed_team: Team
) -> None:
    parameters = {"user_id": committed_team.member.id}
    async with engine.connect() as connection:
        async with connection.begin() as transaction:
            await _RENAME.execute_many(
                connection, [{**parameters, "name": "First"}, {**parameters, "name": "Second"}]
            )
            [renamed] = await _ACTIVE_USER_ALONE.rows(connection, parameters)
            assert renamed.user_full_name == "Second"
            await transaction.rollback()
        [after] = await _ACTIVE_USER_ALONE.rows(connection, parameters)
    assert after.user_full_name == committed_team.member.full_name


async def test_a_statement_whose_columns_take_python_defaults_is_refused(
    engine: AsyncEngine, committed_team: Team, is_postgres: bool
) -> None:
    # `updated_at` takes its value from Python on update, which only SQLAlchemy runs.
    rename = Prepared(
        update(_USERS)
        .where(_USERS.c.id == bindparam("user_id"))
        .values(full_name=bindparam("name"))
    )
    async with engine.connect() as connection, connection.begin():
        await connection.execute(select(1))
        if is_postgres:
            with pytest.raises(ValueError, match="updated_at"):
                await rename.execute(connection, {"user_id": committed_team.member.id, "name": "x"})
