"""The models package registers every table, and drop_all/create_all really act on them."""

import json
import subprocess
import sys
import textwrap

EXPECTED_TABLES = {
    "api_tokens",
    "approvals",
    "attempt_counters",
    "clients",
    "event_counters",
    "events",
    "import_file_chunks",
    "import_runs",
    "invitations",
    "memberships",
    "project_members",
    "projects",
    "refresh_tokens",
    "report_shares",
    "stream_tickets",
    "tags",
    "tasks",
    "time_entries",
    "time_entry_tags",
    "users",
    "webhook_deliveries",
    "webhook_subscriptions",
    "webhooks",
    "workspaces",
    "workspace_restores",
}

# Runs in a fresh interpreter that imports nothing of the application but app.db.models.
_PROBE = textwrap.dedent(
    """
    import asyncio, json, sys
    from sqlalchemy import inspect
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool
    import app.db.models
    from app.db.base import Base

    def table_names(connection):
        return set(inspect(connection).get_table_names())

    async def main(url):
        engine = create_async_engine(url, poolclass=NullPool)
        report = {"metadata": sorted(Base.metadata.tables)}
        async with engine.connect() as connection:
            transaction = await connection.begin()
            await connection.run_sync(Base.metadata.drop_all)
            report["after_drop"] = sorted(await connection.run_sync(table_names))
            await connection.run_sync(Base.metadata.create_all)
            report["after_create"] = sorted(await connection.run_sync(table_names))
            await transaction.rollback()
        await engine.dispose()
        print(json.dumps(report))

    asyncio.run(main(sys.argv[1]))
    """
)


def _probe(url: str) -> dict[str, list[str]]:
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", _PROBE, url], capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout)


def test_fresh_interpreter_sees_every_table_and_drop_create_act_on_them(
    database_url: str, engine: object
) -> None:
    report = _probe(database_url)
    assert set(report["metadata"]) == EXPECTED_TABLES
    assert not EXPECTED_TABLES & set(report["after_drop"])
    assert set(report["after_create"]) >= EXPECTED_TABLES
