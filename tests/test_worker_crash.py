"""A worker killed mid-request loses nothing it answered for, and stores nothing by halves.

A real `timesheet serve --workers 2` on PostgreSQL takes parallel creates of tagged time
entries while one of its workers is killed with SIGKILL: every create answered 201 is
stored with all its tags, and no stored entry lacks any of its tags.
"""

import asyncio
import os
import signal
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.db.models import TimeEntry, time_entry_tags
from tests.factories import DEFAULT_PASSWORD, TEST_SECRET_KEY
from tests.servers import environment_without, serving, worker_pids

CREATES = 120
IN_FLIGHT = 8
KILL_AFTER = CREATES // 4
START = datetime(2024, 5, 6, tzinfo=UTC)


async def _set_up(client: httpx.AsyncClient) -> tuple[str, str, list[str]]:
    """Register and sign in; create a workspace, a project and three tags."""
    email = f"crash-{uuid.uuid4().hex[:8]}@example.com"
    registered = await client.post(
        "/api/v1/auth/register",
        json={"email": email, "password": DEFAULT_PASSWORD, "full_name": "Crash Test"},
    )
    assert registered.status_code == 201, registered.text
    signed_in = await client.post(
        "/api/v1/auth/token", data={"username": email, "password": DEFAULT_PASSWORD}
    )
    assert signed_in.status_code == 200, signed_in.text
    client.headers["Authorization"] = f"Bearer {signed_in.json()['access_token']}"
    workspace = await client.post("/api/v1/workspaces", json={"name": "Crash"})
    assert workspace.status_code == 201, workspace.text
    workspace_url = f"/api/v1/workspaces/{workspace.json()['id']}"
    project = await client.post(f"{workspace_url}/projects", json={"name": "Crash"})
    assert project.status_code == 201, project.text
    tag_ids = []
    for name in ("red", "green", "blue"):
        tag = await client.post(f"{workspace_url}/tags", json={"name": name})
        assert tag.status_code == 201, tag.text
        tag_ids.append(tag.json()["id"])
    return workspace_url, project.json()["id"], tag_ids


def _tags_of(n: int, tag_ids: list[str]) -> set[str]:
    """One, two or three tags, by turns."""
    return set(tag_ids[: 1 + n % 3])


@pytest.mark.committed
async def test_a_killed_worker_loses_no_answered_create(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    is_postgres: bool,
    tmp_path: Path,
) -> None:
    if not is_postgres:
        pytest.skip("PostgreSQL only")
    env = environment_without("DATABASE_URL", "ENVIRONMENT", "SECRET_KEY", "AUTO_MIGRATE")
    env |= {
        "DATABASE_URL": settings.database_url,
        "ENVIRONMENT": "test",
        "SECRET_KEY": TEST_SECRET_KEY,
        "AUTO_MIGRATE": "false",
        "DB_POOL_SIZE": str(IN_FLIGHT),
    }
    with serving("--workers", "2", cwd=tmp_path, env=env) as (base, server):
        limits = httpx.Limits(max_connections=IN_FLIGHT)
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
            workspace_url, project_id, tag_ids = await _set_up(client)
            answers: dict[int, int | None] = {}
            killed = asyncio.Event()
            started_after_kill: set[int] = set()
            slots = asyncio.Semaphore(IN_FLIGHT)

            async def create(n: int) -> None:
                async with slots:
                    if killed.is_set():
                        started_after_kill.add(n)
                    body = {
                        "description": f"entry {n}",
                        "project_id": project_id,
                        "tag_ids": sorted(_tags_of(n, tag_ids)),
                        "start_at": (START + timedelta(minutes=n)).isoformat(),
                        "end_at": (START + timedelta(minutes=n, seconds=30)).isoformat(),
                    }
                    try:
                        response = await client.post(f"{workspace_url}/time-entries", json=body)
                        answers[n] = response.status_code
                    except httpx.TransportError:
                        answers[n] = None  # the worker died with the request: outcome unknown
                    if len(answers) == KILL_AFTER:
                        victim = worker_pids(server.pid)[0]
                        os.kill(victim, signal.SIGKILL)
                        killed.set()

            await asyncio.gather(*(create(n) for n in range(CREATES)))
            assert (await client.get("/readyz")).status_code == 200

    answered = {n for n, status in answers.items() if status == 201}
    assert answered & started_after_kill, "no create succeeded after the kill"
    assert {status for status in answers.values()} <= {201, None}, answers

    async with sessionmaker() as session:
        entries = dict((await session.execute(select(TimeEntry.description, TimeEntry.id))).all())
        tagged = (await session.execute(select(time_entry_tags))).mappings().all()
    tags_by_entry: dict[uuid.UUID, set[str]] = {}
    for row in tagged:
        tags_by_entry.setdefault(row["time_entry_id"], set()).add(str(row["tag_id"]))
    stored = {
        int(description.removeprefix("entry ")): tags_by_entry.get(entry_id, set())
        for description, entry_id in entries.items()
    }
    assert answered <= stored.keys()
    for n, tags in stored.items():
        assert tags == _tags_of(n, tag_ids), f"entry {n} was stored without all its tags"
