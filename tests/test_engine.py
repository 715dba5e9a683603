"""Engine configuration for each database."""

import contextlib
import itertools

import pytest
from httpx import AsyncClient
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool

from app.config import Settings
from app.db.connection import connection_of
from app.db.engine import READ_ONLY, create_engine, create_sessions
from app.db.unit_of_work import UnitOfWork
from tests.factories import Team, auth_headers


async def test_sqlite_connections_are_configured(engine: AsyncEngine, is_postgres: bool) -> None:
    if is_postgres:
        pytest.skip("SQLite only")
    async with engine.connect() as connection:
        pragma = {
            name: (await connection.exec_driver_sql(f"PRAGMA {name}")).scalar_one()
            for name in ("journal_mode", "foreign_keys", "busy_timeout")
        }
    assert pragma == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 10_000}


async def test_sqlite_writers_take_the_lock_up_front_and_readers_do_not(
    engine: AsyncEngine, is_postgres: bool, settings: Settings
) -> None:
    if is_postgres:
        pytest.skip("SQLite only")
    impatient = create_engine(settings.model_copy(update={"sqlite_busy_timeout_ms": 0}))
    try:
        async with engine.connect() as writer:
            await writer.execute(text("SELECT 1"))  # BEGIN IMMEDIATE holds the write lock
            async with impatient.connect() as reader:
                await reader.execution_options(**{READ_ONLY: True})
                assert (await reader.execute(text("SELECT 1"))).scalar_one() == 1
            async with impatient.connect() as second_writer:
                with pytest.raises(Exception, match="locked"):
                    await second_writer.execute(text("SELECT 1"))
    finally:
        await impatient.dispose()


async def test_pgbouncer_mode_needs_no_prepared_statement_cache(
    settings: Settings, is_postgres: bool
) -> None:
    if not is_postgres:
        pytest.skip("PostgreSQL only")
    bouncer_engine = create_engine(settings.model_copy(update={"db_pgbouncer": True}))
    try:
        assert isinstance(bouncer_engine.pool, NullPool)
        for _ in range(3):
            async with bouncer_engine.connect() as connection:
                assert (await connection.execute(text("SELECT 41 + 1"))).scalar_one() == 42
    finally:
        await bouncer_engine.dispose()


async def test_postgres_plans_each_statement_for_its_values(
    engine: AsyncEngine, is_postgres: bool, settings: Settings
) -> None:
    if not is_postgres:
        pytest.skip("PostgreSQL only")
    if settings.db_pgbouncer:
        pytest.skip("PgBouncer refuses the setting; no statement is prepared twice through it")
    async with engine.connect() as connection:
        mode = (await connection.execute(text("SHOW plan_cache_mode"))).scalar_one()
    assert mode == "force_custom_plan"


@pytest.mark.committed
async def test_sqlite_reads_a_snapshot_while_a_writer_holds_the_lock(
    client: AsyncClient, engine: AsyncEngine, is_postgres: bool, committed_team: Team
) -> None:
    """A GET request needs no write lock: it answers while another transaction writes."""
    if is_postgres:
        pytest.skip("SQLite only")
    team = committed_team
    url = f"/api/v1/workspaces/{team.workspace.id}/tags"
    async with engine.connect() as writer:
        await writer.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: the write lock is held
        read = await client.get(url, headers=auth_headers(team.member))
        assert read.status_code == 200
    # Writes still queue for the lock, so their check-then-write rules hold.
    created = await client.post(url, json={"name": "after"}, headers=auth_headers(team.admin))
    assert created.status_code == 201


async def test_postgres_reads_outside_a_transaction(engine: AsyncEngine, is_postgres: bool) -> None:
    """Read-only work sends no BEGIN and COMMIT: each statement is its own transaction, so
    the transaction's start (`now()`) moves from one statement to the next."""
    if not is_postgres:
        pytest.skip("PostgreSQL only")
    sessions = create_sessions(engine)
    starts = {}
    for kind, sessionmaker in (("reading", sessions.reading), ("writing", sessions.writing)):
        async with sessionmaker() as session:
            first = (await session.execute(text("SELECT now()"))).scalar_one()
            await session.execute(text("SELECT pg_sleep(0.01)"))
            starts[kind] = first, (await session.execute(text("SELECT now()"))).scalar_one()
    assert starts["reading"][0] < starts["reading"][1]
    assert starts["writing"][0] == starts["writing"][1]


async def test_through_pgbouncer_reads_keep_to_a_transaction(
    engine: AsyncEngine, is_postgres: bool
) -> None:
    """Outside a transaction PgBouncer may run a statement on another server than the one
    it was prepared on; in one, every statement meets the same server."""
    if not is_postgres:
        pytest.skip("PostgreSQL only")
    sessions = create_sessions(engine, pgbouncer=True)
    async with sessions.reading() as session:
        first = (await session.execute(text("SELECT now()"))).scalar_one()
        await session.execute(text("SELECT pg_sleep(0.01)"))
        assert (await session.execute(text("SELECT now()"))).scalar_one() == first


async def test_work_that_only_reads_holds_one_connection_and_gives_it_back(
    engine: AsyncEngine, is_postgres: bool
) -> None:
    """A read-only unit of work reads on a connection of its own, the same one for its Core
    reads and its session's ORM reads, and returns it to the pool when it ends, raised or
    not; on PostgreSQL it reads outside a transaction."""
    sessions = create_sessions(engine)
    # Counted by the pool's events: through PgBouncer the pool keeps no connections.
    held = [0]

    def count(*_: object) -> None:
        held[0] += 1

    def uncount(*_: object) -> None:
        held[0] -= 1

    event.listen(engine.sync_engine, "checkout", count)
    event.listen(engine.sync_engine, "checkin", uncount)
    try:
        clock = "SELECT now()" if is_postgres else "SELECT datetime('now')"
        # Work that reads through its session too, and work that reads on the connection
        # alone (its session then never begins and is not closed).
        for failing, through_session in itertools.product((False, True), repeat=2):
            with contextlib.suppress(RuntimeError):
                async with UnitOfWork(sessions, read_only=True) as uow:
                    connection = await connection_of(uow.session)
                    reader = uow.session if through_session else connection
                    if through_session:
                        orm_connection = await uow.session.connection()
                        assert orm_connection.sync_connection is connection.sync_connection
                    first = (await connection.execute(text(clock))).scalar_one()
                    await connection.execute(
                        text("SELECT pg_sleep(0.01)" if is_postgres else "SELECT 1")
                    )
                    later = (await reader.execute(text(clock))).scalar_one()
                    assert held == [1]
                    if failing:
                        raise RuntimeError("the work failed")
            assert held == [0]
            if is_postgres:
                assert first < later
    finally:
        event.remove(engine.sync_engine, "checkout", count)
        event.remove(engine.sync_engine, "checkin", uncount)
