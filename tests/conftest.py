"""Test set-up: the same suite on SQLite (default) or PostgreSQL (TEST_DATABASE_URL).

Each test runs inside an outer transaction that is rolled back afterwards; the app's
session joins it through savepoints. Tests marked `committed` use real, separate
transactions instead and the tables are emptied after them.
"""

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from hypothesis import settings as hypothesis_settings
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from app.config import Environment, Settings, normalize_database_url
from app.db import migrations
from app.db.engine import Sessions, create_engine, create_sessionmaker, create_sessions
from app.db.models import Base
from app.main import create_app
from tests.factories import TEST_SECRET_KEY, Team, make_team
from tests.sent import sent_statements

# CI fuzzes the same examples on every run, so that it fails on a change and not on a draw;
# developers' runs draw at random, to find what no one has tried.
hypothesis_settings.register_profile("ci", derandomize=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def _database_url(tmp_dir: Path) -> str:
    configured = os.environ.get("TEST_DATABASE_URL")
    if configured:
        return normalize_database_url(configured)
    return f"sqlite+aiosqlite:///{tmp_dir / 'test.db'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _database_url(tmp_path_factory.mktemp("db"))


@pytest.fixture(scope="session")
def is_postgres(database_url: str) -> bool:
    return database_url.startswith("postgresql")


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        environment=Environment.TEST,
        secret_key=TEST_SECRET_KEY,
        auto_migrate=False,
        # Tests run the dispatcher themselves, against receivers of their own on 127.0.0.1.
        webhook_dispatcher=False,
        # Likewise the import runner (`tests.importing.finished_run`).
        import_runner=False,
        webhook_allow_private_targets=True,
        _env_file=None,
    )


@pytest.fixture(scope="session")
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    await migrations.drop_everything(settings.database_url)
    await migrations.upgrade(settings.database_url)
    engine = create_engine(settings)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(
    engine: AsyncEngine, request: pytest.FixtureRequest
) -> AsyncIterator[AsyncConnection | None]:
    if request.node.get_closest_marker("committed"):
        yield None
        await _empty_tables(engine)
        return
    async with engine.connect() as connection:
        transaction = await connection.begin()
        yield connection
        await transaction.rollback()


@pytest.fixture(autouse=True)
def _committed_tests_leave_empty_tables(request: pytest.FixtureRequest) -> None:
    """Committed tests that ask for no session (the commands' tests) are emptied after too."""
    if request.node.get_closest_marker("committed"):
        request.getfixturevalue("connection")


async def _empty_tables(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            await connection.execute(delete(table))


@pytest.fixture
def sessionmaker(
    engine: AsyncEngine, connection: AsyncConnection | None
) -> async_sessionmaker[AsyncSession]:
    if connection is None:
        return create_sessionmaker(engine)
    return async_sessionmaker(
        bind=connection,
        expire_on_commit=False,
        autoflush=False,
        join_transaction_mode="create_savepoint",
    )


@pytest.fixture
def sessions(
    settings: Settings,
    engine: AsyncEngine,
    connection: AsyncConnection | None,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> Sessions:
    """What the app and units of work open sessions from: the real pair for `committed`
    tests, else both joined to the test's outer transaction."""
    if connection is None:
        return create_sessions(engine, pgbouncer=settings.db_pgbouncer)
    return Sessions.alike(sessionmaker)


@pytest.fixture
async def session(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessionmaker() as session:
        yield session


@pytest.fixture
def app(settings: Settings, engine: AsyncEngine, sessions: Sessions) -> FastAPI:
    app = create_app(settings)
    app.state.engine = engine
    app.state.sessions = sessions
    return app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)

    def reset(self) -> None:
        self.statements.clear()


@pytest.fixture
def query_counter(engine: AsyncEngine) -> Iterator[QueryCounter]:
    """Counts the SQL statements sent while the test runs, savepoints excluded."""
    counter = QueryCounter()

    def record(statement: str) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):
            counter.statements.append(statement)

    with sent_statements(engine, record):
        yield counter


@pytest.fixture
async def team(session: AsyncSession) -> Team:
    """A workspace with an owner, an admin and a member, plus an outsider with their own."""
    return await make_team(session)


@pytest.fixture
async def committed_team(sessionmaker: async_sessionmaker[AsyncSession]) -> Team:
    """`team`, committed: for tests marked `committed`, whose requests run in real
    transactions of their own."""
    async with sessionmaker() as session:
        team = await make_team(session)
        await session.commit()
    return team


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `postgres_only` are skipped unless the suite targets PostgreSQL."""
    if os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"):
        return
    skip = pytest.mark.skip(reason="PostgreSQL only: set TEST_DATABASE_URL")
    for item in items:
        if item.get_closest_marker("postgres_only"):
            item.add_marker(skip)
