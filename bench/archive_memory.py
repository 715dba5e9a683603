"""Memory and time of moving a workspace: the full export of 200,000 entries through
`GET …/export/full` on a real `timesheet serve`, then `timesheet workspace import` of that
archive into a second database.

    .venv/bin/python -m bench.archive_memory \\
        --database-url postgresql://postgres@127.0.0.1/source \\
        --restore-url postgresql://postgres@127.0.0.1/target

Both databases are emptied and migrated. The export is measured as `bench.xlsx_memory`
measures the XLSX export: the server's resting RSS after a warm-up export of a small
workspace, then its peak (sampled, and `VmHWM`) while the big archive streams to a file.
The restore runs as its own process; its peak is that child's maximum resident set.
"""

import argparse
import asyncio
import resource
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import create_async_engine

from app.config import normalize_database_url
from app.db import migrations
from app.db.models import Membership, User, Workspace
from app.enums import Role
from bench.harness import access_token, timesheet_server
from bench.xlsx_memory import ENTRIES, fill, rss_kib

MIB = 1024


async def small_workspace(database_url: str, owner_id: uuid.UUID) -> uuid.UUID:
    """A second workspace of the same owner with nothing in it, for the warm-up export."""
    engine = create_async_engine(database_url)
    workspace_id = uuid.uuid4()
    async with engine.begin() as connection:
        await connection.execute(
            insert(Workspace), [{"id": workspace_id, "name": "Warm", "owner_user_id": owner_id}]
        )
        await connection.execute(
            insert(Membership),
            [{"workspace_id": workspace_id, "user_id": owner_id, "role": Role.OWNER}],
        )
    await engine.dispose()
    return workspace_id


async def empty_target(database_url: str) -> None:
    """The restore's database, migrated, with an account for the new owner."""
    await migrations.drop_everything(database_url)
    await migrations.upgrade(database_url)
    engine = create_async_engine(database_url)
    async with engine.begin() as connection:
        await connection.execute(
            insert(User),
            [{"email": "ops@bench.example", "full_name": "Ops", "password_hash": "!"}],
        )
    await engine.dispose()


def reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # resets VmHWM


async def export(
    database_url: str, owner_id: uuid.UUID, workspace_id: uuid.UUID, warm_id: uuid.UUID, to: Path
) -> tuple[float, int, int]:
    """Seconds, resting and peak RSS (KiB) of the server while it streams the archive."""
    headers = {"Authorization": f"Bearer {access_token(owner_id)}"}
    async with timesheet_server(database_url, to.parent) as server:
        url = f"{server.url}/api/v1/workspaces/{{}}/export/full"
        async with httpx.AsyncClient(headers=headers, timeout=1200) as client:
            (await client.get(url.format(warm_id))).raise_for_status()
            await asyncio.sleep(1)
            resting = rss_kib(server.pid)
            reset_peak(server.pid)
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
            with to.open("wb") as output:
                async with client.stream("GET", url.format(workspace_id)) as response:
                    response.raise_for_status()
                    async for chunk in response.aiter_bytes():
                        output.write(chunk)
            elapsed = time.perf_counter() - began
            done.set()
            sampler.join()
            peak = max(peak, rss_kib(server.pid, "VmHWM"))
    return elapsed, resting, peak


def restore(database_url: str, archive: Path) -> tuple[float, int]:
    """Seconds and peak RSS (KiB) of `timesheet workspace import` as a process of its own."""
    executable = Path(sys.executable).with_name("timesheet")
    began = time.perf_counter()
    subprocess.run(  # noqa: S603 - our own console script
        [str(executable), "workspace", "import", str(archive), "--owner", "ops@bench.example"],
        env={"DATABASE_URL": database_url, "ENVIRONMENT": "production", "SECRET_KEY": "x" * 40},
        check=True,
        stdout=subprocess.DEVNULL,
        cwd=archive.parent,
    )
    elapsed = time.perf_counter() - began
    return elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--restore-url", required=True)
    parser.add_argument("--entries", type=int, default=ENTRIES)
    args = parser.parse_args()
    source = normalize_database_url(args.database_url)
    target = normalize_database_url(args.restore_url)

    print(f"filling {args.entries} entries …", file=sys.stderr)
    owner_id, workspace_id = asyncio.run(fill(source, args.entries))
    warm_id = asyncio.run(small_workspace(source, owner_id))
    asyncio.run(empty_target(target))
    with tempfile.TemporaryDirectory() as directory:
        archive = Path(directory) / "bench.zip"
        seconds, resting, peak = asyncio.run(
            export(args.database_url, owner_id, workspace_id, warm_id, archive)
        )
        size = archive.stat().st_size
        print(f"entries:            {args.entries}")
        print(f"archive:            {size / MIB / MIB:.1f} MiB")
        print(f"export:             {seconds:.1f} s, {args.entries / seconds:,.0f} entries/s")
        print(f"server resting RSS: {resting / MIB:.1f} MiB")
        print(f"server peak RSS:    {peak / MIB:.1f} MiB ({(peak - resting) / MIB:.1f} over)")
        print("restoring …", file=sys.stderr)
        seconds, peak = restore(args.restore_url, archive)
        print(f"restore:            {seconds:.1f} s, {args.entries / seconds:,.0f} entries/s")
        print(f"restore peak RSS:   {peak / MIB:.1f} MiB")


if __name__ == "__main__":
    main()
