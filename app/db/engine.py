"""Engine and session factories, configured for SQLite or PostgreSQL."""

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from app.config import Settings
from app.db.connection import POOLED_BY_TRANSACTION

# Execution option for connections that never write; lets SQLite skip the write lock.
READ_ONLY = "timesheet_read_only"


def create_engine(settings: Settings) -> AsyncEngine:
    if settings.is_sqlite:
        return _create_sqlite_engine(settings)
    return _create_postgres_engine(settings)


def create_sessionmaker(bind: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(bind, expire_on_commit=False, autoflush=False)


@dataclass(frozen=True)
class Sessions:
    """The session factories of one database: for work that writes, and for work that
    only reads, which each database can serve more cheaply."""

    writing: async_sessionmaker[AsyncSession]
    reading: async_sessionmaker[AsyncSession]
    # SQLite has one writer at a time. Writers of this process wait their turn here, in
    # order, instead of polling the file lock with growing sleeps, which made the slowest
    # writes wait seconds; other processes still meet the lock's busy timeout.
    writers: asyncio.Lock | None = None
    # What `reading` binds to, for work that only reads to take a connection of its own
    # (None where sessions are joined to one connection, as in tests).
    reader: AsyncEngine | None = None

    async def queue_writer(self) -> None:
        if self.writers is not None:
            await self.writers.acquire()

    def release_writer(self) -> None:
        if self.writers is not None:
            self.writers.release()

    @classmethod
    def alike(cls, sessionmaker: async_sessionmaker[AsyncSession]) -> "Sessions":
        """Reads and writes from one factory (tests joined to an outer transaction)."""
        return cls(writing=sessionmaker, reading=sessionmaker)


# Reads need no write lock on SQLite; on PostgreSQL each statement of a read-only unit of
# work already sees its own snapshot under READ COMMITTED, so BEGIN and COMMIT add only
# round trips.
_READING_OPTIONS: dict[str, dict[str, Any]] = {
    "sqlite": {READ_ONLY: True},
    "postgresql": {"isolation_level": "AUTOCOMMIT"},
}


def create_sessions(engine: AsyncEngine, *, pgbouncer: bool = False) -> Sessions:
    """`pgbouncer`: the engine connects through PgBouncer in transaction mode (see
    `Settings.db_pgbouncer`). Between transactions PgBouncer may hand the connection's next
    message to another server, where the statement just prepared does not exist: there,
    reads keep to a transaction too."""
    dialect = engine.dialect.name
    reading = engine if pgbouncer else engine.execution_options(**_READING_OPTIONS[dialect])
    return Sessions(
        writing=create_sessionmaker(engine),
        reading=create_sessionmaker(reading),
        writers=asyncio.Lock() if dialect == "sqlite" else None,
        reader=reading,
    )


def _create_sqlite_engine(settings: Settings) -> AsyncEngine:
    engine = create_async_engine(settings.database_url, echo=settings.db_echo)
    busy_timeout = settings.sqlite_busy_timeout_ms

    @event.listens_for(engine.sync_engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so that BEGIN below is ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Connection) -> None:
        # IMMEDIATE takes the write lock up front: a read-then-write transaction waits for
        # busy_timeout instead of failing when another writer got there first, which is what
        # makes check-then-insert rules (one timer, no overlaps) race-free on SQLite.
        # Connections marked read-only (health checks, reports) read a snapshot without it.
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _create_postgres_engine(settings: Settings) -> AsyncEngine:
    options: dict[str, Any] = {"echo": settings.db_echo}
    if settings.db_pgbouncer:
        # PgBouncer in transaction mode hands each transaction to any server connection:
        # pool there, not here, and never rely on named prepared statements surviving.
        options["poolclass"] = NullPool
        options["execution_options"] = {POOLED_BY_TRANSACTION: True}
        options["connect_args"] = {
            "statement_cache_size": 0,
            "prepared_statement_cache_size": 0,
            "prepared_statement_name_func": lambda: f"__asyncpg_{uuid.uuid4()}__",
        }
    else:
        options.update(
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            # A ping costs three round trips per checkout. Without it, a connection the
            # server dropped fails one request, and the pool then replaces every
            # connection it held; connections are also renewed after `db_pool_recycle`.
            pool_pre_ping=settings.db_pool_pre_ping,
            pool_recycle=settings.db_pool_recycle_seconds,
            # Prepared statements are cached per connection; a generic plan, made for no
            # workspace in particular, is far off for one that holds most of the rows.
            # (Through PgBouncer nothing is cached, so every plan is already custom.)
            connect_args={"server_settings": {"plan_cache_mode": "force_custom_plan"}},
        )
    return create_async_engine(settings.database_url, **options)
