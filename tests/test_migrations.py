"""Migrations build the schema the models describe, and every step downgrades."""

import pytest
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import migrations
from app.db.models import Base


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))


@pytest.mark.committed
async def test_upgrade_check_downgrade_upgrade(database_url: str, engine: AsyncEngine) -> None:
    await migrations.upgrade(database_url)
    await migrations.check(database_url)
    assert await migrations.current_revision(database_url) == migrations.head_revision()

    await migrations.downgrade(database_url, "base")
    assert not set(Base.metadata.tables) & await _tables(engine)
    assert await migrations.current_revision(database_url) is None

    await migrations.upgrade(database_url)
    assert set(Base.metadata.tables) <= await _tables(engine)
    await migrations.check(database_url)
