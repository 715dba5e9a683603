"""The `timesheet` command against the suite's database."""

import asyncio
import subprocess
import sys

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner

from app.cli import cli
from app.db.models import Base, User
from app.security import verify_password

runner = CliRunner()


def test_the_command_imports_what_its_other_commands_need_only_when_they_run() -> None:
    """Every command pays for this module's imports, `timesheet import` included: the API,
    the exports, the demo data and the metrics come with the commands that use them."""
    later = ["fastapi", "xlsxwriter", "prometheus_client", "app.services.exports", "app.seed"]
    probe = f"import sys, app.cli; print([name for name in {later!r} if name in sys.modules])"
    result = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def _run(database_url: str, *args: str, **env: str) -> tuple[int, str]:
    result = runner.invoke(
        cli, list(args), env={"DATABASE_URL": database_url, "ENVIRONMENT": "test", **env}
    )
    return result.exit_code, result.output


def _row_counts(database_url: str) -> dict[str, int]:
    async def count() -> dict[str, int]:
        engine = create_async_engine(database_url, poolclass=NullPool)
        async with engine.connect() as connection:
            counts = {
                table.name: (
                    await connection.execute(select(func.count()).select_from(table))
                ).scalar_one()
                for table in Base.metadata.sorted_tables
            }
        await engine.dispose()
        return counts

    return asyncio.run(count())


@pytest.mark.committed
def test_seed_twice_leaves_the_same_row_counts(database_url: str, engine: AsyncEngine) -> None:
    code, output = _run(database_url, "db", "seed")
    assert code == 0, output
    first = _row_counts(database_url)
    assert first["time_entries"] > 50
    assert first["workspaces"] == 1 and first["users"] == 3
    code, output = _run(database_url, "db", "seed")
    assert code == 0, output
    assert "Seeded 0 new rows" in output
    assert _row_counts(database_url) == first


@pytest.mark.committed
def test_reset_refuses_in_production_and_empties_otherwise(
    database_url: str, engine: AsyncEngine
) -> None:
    assert _run(database_url, "db", "seed")[0] == 0
    code, output = _run(
        database_url,
        "db",
        "reset",
        "--yes",
        ENVIRONMENT="production",
        SECRET_KEY="a-private-production-key",
    )
    assert code == 1
    assert "Refusing" in output
    assert _row_counts(database_url)["users"] == 3

    code, output = _run(database_url, "db", "reset", "--yes")
    assert code == 0, output
    assert set(_row_counts(database_url).values()) == {0}
    code, output = _run(database_url, "db", "current")
    assert code == 0 and "up to date" in output


def test_production_refuses_the_default_secret_key(database_url: str) -> None:
    code, output = _run(database_url, "db", "current", ENVIRONMENT="production")
    assert code == 2
    assert "SECRET_KEY" in output


@pytest.mark.committed
def test_users_create_normalizes_email_and_refuses_duplicates(
    database_url: str, engine: AsyncEngine
) -> None:
    args = ("users", "create", "--full-name", "Ada", "--password", "long-enough-password")
    code, output = _run(database_url, *args, "--email", "Ada@Example.com")
    assert code == 0, output
    assert "ada@example.com" in output
    code, output = _run(database_url, *args, "--email", "ADA@example.com")
    assert code == 1
    assert "already exists" in output
    code, output = _run(database_url, *args, "--email", "not-an-email")
    assert code == 2
    assert "email" in output


@pytest.mark.committed
def test_users_create_keeps_the_password_as_typed(database_url: str, engine: AsyncEngine) -> None:
    padded = "  spaces around it  "
    args = ("users", "create", "--email", "pad@example.com", "--full-name", "Pad")
    code, output = _run(database_url, *args, "--password", padded)
    assert code == 0, output

    async def stored_hash() -> str:
        engine = create_async_engine(database_url, poolclass=NullPool)
        async with engine.connect() as connection:
            statement = select(User.password_hash).where(User.email == "pad@example.com")
            password_hash = (await connection.execute(statement)).scalar_one()
        await engine.dispose()
        return password_hash

    password_hash = asyncio.run(stored_hash())
    assert asyncio.run(verify_password(password_hash, padded))
    assert not asyncio.run(verify_password(password_hash, padded.strip()))
