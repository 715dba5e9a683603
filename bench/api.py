"""API latency benchmark, reported as ratios against a baseline measured in the same run.

Absolute timings depend on the machine; the ratio of an endpoint to `GET /livez` (the
framework with no database) and to `GET /users/me` (auth plus one query) does much less.

    .venv/bin/python -m bench.api                    # SQLite in a temporary directory
    BENCH_DATABASE_URL=postgresql://... .venv/bin/python -m bench.api   # emptied first!
"""

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from httpx import ASGITransport, AsyncClient

from app.config import Environment, Settings, normalize_database_url
from app.db import migrations
from app.db.engine import create_engine, create_sessionmaker
from app.db.models import Membership, Project, Tag, TimeEntry, User, Workspace, time_entry_tags
from app.enums import Role
from app.main import create_app
from app.repositories.upsert import insert_ignoring_conflicts
from app.security import create_access_token, hash_password

SECRET = "benchmark-secret-key-long-enough"  # noqa: S105 - a throwaway database


async def seed(settings: Settings, entries: int) -> tuple[uuid.UUID, uuid.UUID, User]:
    engine = create_engine(settings)
    async with create_sessionmaker(engine)() as session:
        user = User(
            email="bench@example.com", full_name="Bench", password_hash=hash_password("x" * 12)
        )
        session.add(user)
        await session.flush()
        workspace = Workspace(name="Bench", owner_user_id=user.id)
        session.add(workspace)
        await session.flush()
        session.add(Membership(workspace_id=workspace.id, user_id=user.id, role=Role.OWNER))
        projects = [Project(workspace_id=workspace.id, name=f"P{n}") for n in range(5)]
        tags = [Tag(workspace_id=workspace.id, name=f"t{n}") for n in range(10)]
        session.add_all([*projects, *tags])
        await session.flush()
        start = datetime(2024, 1, 1, tzinfo=UTC)
        rows, links = [], []
        for n in range(entries):
            entry_id = uuid.uuid4()
            begin = start + timedelta(hours=n)
            rows.append(
                {
                    "id": entry_id,
                    "workspace_id": workspace.id,
                    "user_id": user.id,
                    "project_id": projects[n % 5].id,
                    "description": f"entry {n}",
                    "start_at": begin,
                    "end_at": begin + timedelta(minutes=45),
                    "billable": True,
                    "hourly_rate_cents": 10000,
                    "source": "manual",
                    "version": 1,
                }
            )
            links.append(
                {"time_entry_id": entry_id, "tag_id": tags[n % 10].id, "workspace_id": workspace.id}
            )
        for chunk in range(0, len(rows), 1000):
            await insert_ignoring_conflicts(
                session, TimeEntry.__table__, rows[chunk : chunk + 1000]
            )
            await insert_ignoring_conflicts(session, time_entry_tags, links[chunk : chunk + 1000])
        await session.commit()
        workspace_id, project_id = workspace.id, projects[0].id
    await engine.dispose()
    return workspace_id, project_id, user


async def measure(call: Callable[[], Awaitable[object]], rounds: int) -> float:
    for _ in range(max(3, rounds // 10)):
        await call()
    timings = []
    for _ in range(rounds):
        began = time.perf_counter()
        await call()
        timings.append(time.perf_counter() - began)
    return statistics.median(timings)


async def run(database_url: str, entries: int, rounds: int) -> None:
    settings = Settings(
        database_url=database_url,
        environment=Environment.TEST,
        secret_key=SECRET,
        auto_migrate=False,
        _env_file=None,
    )
    await migrations.drop_everything(settings.database_url)
    await migrations.upgrade(settings.database_url)
    workspace_id, project_id, user = await seed(settings, entries)

    app = create_app(settings)
    app.state.engine = create_engine(settings)
    app.state.sessionmaker = create_sessionmaker(app.state.engine)
    token = create_access_token(user.id, user.token_generation, secret_key=SECRET, ttl_seconds=3600)
    headers = {"Authorization": f"Bearer {token}"}
    entries_url = f"/api/v1/workspaces/{workspace_id}/time-entries"
    clock = iter(range(10**9))

    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://bench") as client:

        def get(url: str, **params: object) -> Callable[[], Awaitable[object]]:
            async def call() -> None:
                response = await client.get(url, params=params, headers=headers)
                assert response.status_code == 200, response.text

            return call

        async def create_entry() -> None:
            begin = datetime(2030, 1, 1, tzinfo=UTC) + timedelta(hours=next(clock))
            body = {
                "start_at": begin.isoformat(),
                "end_at": (begin + timedelta(minutes=30)).isoformat(),
                "project_id": str(project_id),
                "description": "bench",
            }
            response = await client.post(entries_url, json=body, headers=headers)
            assert response.status_code == 201, response.text

        async def start_timer() -> None:
            response = await client.post(
                f"/api/v1/workspaces/{workspace_id}/timer/start",
                json={"description": "bench"},
                headers=headers,
            )
            assert response.status_code == 201, response.text

        cases = {
            "GET /livez (baseline)": get("/livez"),
            "GET /users/me": get("/api/v1/users/me"),
            "GET time-entries limit=50": get(entries_url, limit=50),
            "GET time-entries limit=200": get(entries_url, limit=200),
            "GET time-entries q + project + tag filter": get(
                entries_url, limit=50, q="entry 1", project_id=str(project_id)
            ),
            "GET time-entries include_total": get(entries_url, limit=50, include_total="true"),
            "POST time-entries": create_entry,
            "POST timer/start": start_timer,
        }
        results = {name: await measure(call, rounds) for name, call in cases.items()}
    await app.state.engine.dispose()

    baseline = results["GET /livez (baseline)"]
    me = results["GET /users/me"]
    print(f"database: {database_url.split('://')[0]}, {entries} entries, {rounds} rounds, median")
    print("| case | ms | x livez | x users/me |\n|---|---:|---:|---:|")
    for name, seconds in results.items():
        print(f"| {name} | {seconds * 1000:.2f} | {seconds / baseline:.1f} | {seconds / me:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=100)
    args = parser.parse_args()
    configured = os.environ.get("BENCH_DATABASE_URL")
    with tempfile.TemporaryDirectory() as directory:
        url = (
            normalize_database_url(configured)
            if configured
            else (f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}")
        )
        asyncio.run(run(url, args.entries, args.rounds))


if __name__ == "__main__":
    main()
