"""Memory of an XLSX export: 200,000 entries through `GET …/time-entries/export?format=xlsx`
on a real `timesheet serve`, with the server's resident memory sampled throughout.

    .venv/bin/python -m bench.xlsx_memory --database-url postgresql://postgres@127.0.0.1/db

The database is emptied and migrated. The server starts with production settings and one
worker; after one small export (so that every module and pool is warm) its resident set is
the resting RSS. Then the peak counter (VmHWM) is reset and the export streamed to nowhere
while RSS is polled; the result is the peak over resting, which the exporter keeps to one
batch of rows plus the XLSX writer's buffers.
"""

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import create_async_engine

from app.config import Settings
from app.db import migrations
from app.db.models import Membership, Project, TimeEntry, User, Workspace
from app.enums import Role
from app.security import create_access_token
from tests.servers import free_port

SECRET_KEY = "bench-" + "x" * 40
ENTRIES = 200_000
CHUNK = 10_000


async def fill(database_url: str, entries: int) -> tuple[uuid.UUID, uuid.UUID]:
    """One workspace with one owner, ten projects and `entries` finished entries."""
    await migrations.drop_everything(database_url)
    await migrations.upgrade(database_url)
    engine = create_async_engine(database_url)
    owner_id, workspace_id = uuid.uuid4(), uuid.uuid4()
    projects = [uuid.uuid4() for _ in range(10)]
    rng = random.Random(19)
    now = datetime.now(UTC)
    async with engine.begin() as connection:
        await connection.execute(
            insert(User),
            [
                {
                    "id": owner_id,
                    "email": "owner@bench.example",
                    "full_name": "Bench Owner",
                    "password_hash": "!",  # nobody signs in; the bench signs its own token
                }
            ],
        )
        await connection.execute(
            insert(Workspace),
            [{"id": workspace_id, "name": "Bench", "owner_user_id": owner_id, "currency": "EUR"}],
        )
        await connection.execute(
            insert(Membership),
            [{"workspace_id": workspace_id, "user_id": owner_id, "role": Role.OWNER}],
        )
        await connection.execute(
            insert(Project),
            [
                {"id": project, "workspace_id": workspace_id, "name": f"Project {n}"}
                for n, project in enumerate(projects)
            ],
        )
        start = now - timedelta(minutes=30 * entries)
        for first in range(0, entries, CHUNK):
            rows = []
            for n in range(first, min(first + CHUNK, entries)):
                begins = start + timedelta(minutes=30 * n)
                rows.append(
                    {
                        "workspace_id": workspace_id,
                        "user_id": owner_id,
                        "project_id": projects[n % len(projects)],
                        "description": f"Task {rng.randrange(10**6)}: review and write-up",
                        "start_at": begins,
                        "end_at": begins + timedelta(minutes=rng.randrange(5, 29)),
                        "billable": n % 3 != 0,
                        "hourly_rate_cents": 9500 if n % 3 != 0 else None,
                        "source": "api",
                    }
                )
            await connection.execute(insert(TimeEntry), rows)
    await engine.dispose()
    return owner_id, workspace_id


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--entries", type=int, default=ENTRIES)
    args = parser.parse_args()

    print(f"filling {args.entries} entries …", file=sys.stderr)
    database_url = Settings(database_url=args.database_url, environment="test").database_url
    owner_id, workspace_id = asyncio.run(fill(database_url, args.entries))
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "ENVIRONMENT": "production",
        "SECRET_KEY": SECRET_KEY,
        "LOG_LEVEL": "WARNING",
    }
    executable = Path(sys.executable).parent / "timesheet"
    with tempfile.TemporaryDirectory() as directory:
        log = Path(directory) / "server.log"
        with log.open("wb") as output:
            server = subprocess.Popen(  # noqa: S603 - our own console script
                [str(executable), "serve", "--port", str(port)],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)
            else:
                raise SystemExit(f"server did not start:\n{log.read_text()}")
            token = create_access_token(owner_id, 0, secret_key=SECRET_KEY, ttl_seconds=3600)
            url = f"{base}/api/v1/workspaces/{workspace_id}/time-entries/export"
            headers = {"Authorization": f"Bearer {token}"}
            # Warm: one small export, so that resting RSS includes every loaded module.
            warm = httpx.get(
                url,
                params={
                    "format": "xlsx",
                    "from": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
                },
                headers=headers,
                timeout=60,
            )
            warm.raise_for_status()
            time.sleep(1)
            resting = rss_kib(server.pid)
            Path(f"/proc/{server.pid}/clear_refs").write_text("5")  # resets VmHWM
            peak = resting
            done = threading.Event()

            def sample() -> None:
                nonlocal peak
                while not done.is_set():
                    peak = max(peak, rss_kib(server.pid))
                    time.sleep(0.02)

            sampler = threading.Thread(target=sample)
            sampler.start()
            began = time.perf_counter()
            size = 0
            with httpx.stream(
                "GET", url, params={"format": "xlsx"}, headers=headers, timeout=600
            ) as response:
                response.raise_for_status()
                for chunk in response.iter_bytes():
                    size += len(chunk)
            elapsed = time.perf_counter() - began
            done.set()
            sampler.join()
            peak = max(peak, rss_kib(server.pid, "VmHWM"))
        finally:
            server.terminate()
            server.wait(timeout=30)
    mib = 1024
    print(f"entries:          {args.entries}")
    print(f"file:             {size / mib / mib:.1f} MiB in {elapsed:.1f} s")
    print(f"resting RSS:      {resting / mib:.1f} MiB")
    print(f"peak RSS:         {peak / mib:.1f} MiB")
    print(f"peak over resting: {(peak - resting) / mib:.1f} MiB")


if __name__ == "__main__":
    main()
