"""Prepared reads give the rows SQLAlchemy gives, whichever way they run."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from app.db.models import TimeEntry, Workspace
from app.db.prepared import PreparedRead
from app.repositories.api_tokens import _LIVE_TOKEN_IN_WORKSPACE, ApiTokenRepository
from app.repositories.time_entries import _one_entry
from app.repositories.users import _ACTIVE_USER_ALONE, _ACTIVE_USER_IN_WORKSPACE
from app.security import token_digest
from tests.factories import Team, make_entry, make_project, make_tag
from tests.tracking import tag_entry

pytestmark = pytest.mark.committed
_ENTRIES = TimeEntry.__table__


@asynccontextmanager
async def reading(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection as work that only reads gets it: in autocommit on PostgreSQL, where
    prepared reads go to the driver."""
    options = {"isolation_level": "AUTOCOMMIT"} if engine.dialect.name == "postgresql" else {}
    async with engine.execution_options(**options).connect() as connection:
        yield connection


async def both_ways(
    connection: AsyncConnection, prepared: PreparedRead, parameters: dict[str, Any]
) -> list[tuple[Any, ...]]:
    """The prepared read's rows, checked against SQLAlchemy's rows of the same statement,
    field by field and with the same names."""
    rows = await prepared.rows(connection, parameters)
    expected = (await connection.execute(prepared.statement, parameters)).all()
    # On PostgreSQL the driver answered: its rows are plain named tuples.
    on_driver = connection.dialect.name == "postgresql"
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


async def test_a_prepared_read_takes_no_list_that_would_change_its_text(
    engine: AsyncEngine, is_postgres: bool
) -> None:
    prepared = PreparedRead(
        select(_ENTRIES.c.id).where(_ENTRIES.c.id.in_(bindparam("ids", expanding=True)))
    )
    async with reading(engine) as connection:
        if not is_postgres:
            # SQLite runs every read through SQLAlchemy, which expands the list.
            assert await prepared.rows(connection, {"ids": []}) == []
            return
        with pytest.raises(ValueError, match="expanding"):
            await prepared.rows(connection, {"ids": []})
