"""One request at a time, where wrk's throughput says little: the summary report's latency
beside the same SQL on the bare driver, and an export's peak memory by its size.

    .venv/bin/python -m bench.single summary --large [--runs 50]
    .venv/bin/python -m bench.single export --large [--sizes 20000,200000]

`summary` records the statements the app's own code runs for the runner's month summary
(authentication included) and times, in turn, the API answering it and asyncpg running
those statements with the same parameters, one after the other. `export` streams the native
CSV export of the caller's newest entries, each size from a fresh server, and reads the
server's peak RSS from /proc. Both use `python -m bench`'s data and server; the results go
to stdout only.
"""

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import event

from app.api.reports import summary_report
from app.config import Environment, Settings, normalize_database_url
from app.db.engine import create_engine, create_sessions
from app.db.unit_of_work import UnitOfWork
from app.schemas.reports import SummaryQuery
from app.services.accounts import authenticate
from app.services.reports import ReportService
from bench import data, harness

EXPORT_ROUTE = f"{harness.API}/workspaces/{{workspace_id}}/time-entries/export"
SUMMARY_TARGET = 1.5
# One batch of the export: the warm-up that pays every one-off cost before measuring.
WARMUP_ENTRIES = 1_000
Statement = tuple[str, tuple[Any, ...]]


async def prepared(args: argparse.Namespace) -> tuple[str, data.Dataset]:
    shape_name = "large" if args.large else "default"
    url = normalize_database_url(args.database_url or data.default_database_url(shape_name))
    return url, await data.prepare(url, data.SHAPES[shape_name])


def workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="timesheet-bench-"))


def milliseconds(seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p90 = ordered[int(0.9 * (len(ordered) - 1))]
    return f"median {statistics.median(ordered) * 1000:7.1f} ms  p90 {p90 * 1000:7.1f} ms"


# The summary against the driver


async def app_statements(
    url: str, dataset: data.Dataset, params: dict[str, str]
) -> tuple[list[Statement], Any]:
    """The statements the route's code sends asyncpg for the summary, with their parameters,
    in order, and the report they make, run in this process through the app's engine."""
    settings = Settings(
        _env_file=None,
        database_url=url,
        secret_key=harness.SECRET_KEY,
        environment=Environment.PRODUCTION,
    )
    engine = create_engine(settings)
    sent: list[Statement] = []
    try:
        # Connected first, so that only the request's own statements are recorded.
        async with engine.connect():
            pass

        @event.listens_for(engine.sync_engine, "before_cursor_execute")
        def record(_conn: Any, _cursor: Any, sql: str, parameters: Any, *_: Any) -> None:
            sent.append((sql, tuple(parameters)))

        async with UnitOfWork(
            create_sessions(engine, pgbouncer=settings.db_pgbouncer), read_only=True
        ) as uow:
            token = harness.access_token(dataset.caller_id)
            caller = await authenticate(uow, settings, token, workspace_id=dataset.workspace_id)
            query = SummaryQuery.model_validate(params)
            report = await summary_report(ReportService(uow.session, caller), query)
    finally:
        await engine.dispose()
    return sent, report.model_dump(mode="json")


@asynccontextmanager
async def driver(url: str) -> AsyncIterator[asyncpg.Connection]:
    # The session setting the app's engine gives each of its connections.
    connection = await asyncpg.connect(
        data.libpq_url(url), server_settings={"plan_cache_mode": "force_custom_plan"}
    )
    try:
        yield connection
    finally:
        await connection.close()


def write_statements(path: Path, statements: list[Statement]) -> None:
    """The recorded statements as a file to run EXPLAIN on."""
    path.write_text(
        "".join(f"-- parameters: {parameters!r}\n{text};\n\n" for text, parameters in statements)
    )


async def summary(args: argparse.Namespace) -> None:
    url, dataset = await prepared(args)
    params = harness.summary_params(dataset)
    statements, report = await app_statements(url, dataset, params)
    logs = workdir()
    write_statements(logs / "summary.sql", statements)
    path = harness.SUMMARY_ROUTE.format(workspace_id=dataset.workspace_id)
    headers = {"Authorization": f"Bearer {harness.access_token(dataset.caller_id)}"}
    api: list[float] = []
    sql: list[list[float]] = [[] for _ in statements]
    async with (
        harness.timesheet_server(url, logs) as server,
        httpx.AsyncClient(base_url=server.url, headers=headers, timeout=60) as client,
        driver(url) as connection,
    ):
        response = await client.get(path, params=params)
        if response.status_code != 200 or response.json() != report:
            raise SystemExit(
                f"The server's summary is not the one the recorded statements made: "
                f"{response.status_code} {response.text[:1000]}"
            )
        rows = [len(await connection.fetch(text, *parameters)) for text, parameters in statements]
        # Turn about, so that both meet the same caches and the same load.
        for _ in range(args.warmup + args.runs):
            began = time.perf_counter()
            (await client.get(path, params=params)).raise_for_status()
            api.append(time.perf_counter() - began)
            for column, (text, parameters) in zip(sql, statements, strict=True):
                began = time.perf_counter()
                await connection.fetch(text, *parameters)
                column.append(time.perf_counter() - began)
    api = api[args.warmup :]
    sql = [column[args.warmup :] for column in sql]
    driven = [sum(run) for run in zip(*sql, strict=True)]
    ratio = statistics.median(api) / statistics.median(driven)
    verdict = "met" if ratio <= SUMMARY_TARGET else "missed"
    print(
        f"\nMonth summary {params['from']} to {params['to']} by project and day (tz UTC) in "
        f"the workspace of {dataset.shape.caller_entries:,} entries; {args.runs} runs of "
        f"each, in turn, after {args.warmup} to warm up; one request or statement at a time.\n"
        f"  API: GET {path}\n"
        f"      {milliseconds(api)}\n"
        f"  asyncpg: the same {len(statements)} statements, in order\n"
        f"      {milliseconds(driven)}"
    )
    for number, ((text, _), count, seconds) in enumerate(zip(statements, rows, sql, strict=True)):
        print(
            f"    {number + 1}. {milliseconds(seconds)}  {count:4,} rows  "
            f"{' '.join(text.split())[:60]}…"
        )
    print(
        f"  ratio API / asyncpg: {ratio:.2f} (target ≤ {SUMMARY_TARGET}: {verdict})\n"
        f"The statements: {logs / 'summary.sql'}"
    )


# Export memory


def memory_kib(pid: int) -> dict[str, int]:
    """The process's resident memory now (VmRSS) and at its peak (VmHWM), in KiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields


def reset_peak(pid: int) -> None:
    # The kernel sets VmHWM back to VmRSS: from here on it is this export's peak.
    Path(f"/proc/{pid}/clear_refs").write_text("5")


async def stream_export(
    client: httpx.AsyncClient, path: str, params: dict[str, str]
) -> tuple[int, int, float, float]:
    """Lines, bytes, seconds to the first byte and seconds in all of one export."""
    lines = size = 0
    first_byte = 0.0
    began = time.perf_counter()
    async with client.stream("GET", path, params=params) as response:
        if response.status_code != 200:
            await response.aread()
            raise SystemExit(f"The export answered {response.status_code}: {response.text}")
        async for chunk in response.aiter_bytes():
            first_byte = first_byte or time.perf_counter() - began
            # The generated descriptions hold no line breaks: one line per entry.
            lines += chunk.count(b"\n")
            size += len(chunk)
    return lines, size, first_byte, time.perf_counter() - began


@dataclass(frozen=True)
class ExportRun:
    entries: int
    bytes: int
    first_byte: float  # seconds
    seconds: float
    before_kib: int  # the server's RSS once warm
    peak_kib: int  # its highest RSS during the export

    def __str__(self) -> str:
        mib = self.bytes / 2**20
        return (
            f"{self.entries:>9,} entries  {mib:5.1f} MiB in {self.seconds:5.1f} s: "
            f"{self.entries / self.seconds:7,.0f} rows/s, {mib / self.seconds:4.1f} MiB/s, "
            f"first byte after {self.first_byte * 1000:.0f} ms; server RSS "
            f"{self.before_kib / 1024:.1f} MiB before, peak {self.peak_kib / 1024:.1f} MiB "
            f"({(self.peak_kib - self.before_kib) / 1024:+.1f})"
        )


async def export_once(url: str, dataset: data.Dataset, size: int) -> ExportRun:
    """One export of about `size` entries, from a server of its own that has served one
    small export before."""
    since, expected = await data.newest_entries(url, dataset, size)
    warmup_since, _ = await data.newest_entries(url, dataset, WARMUP_ENTRIES)
    path = EXPORT_ROUTE.format(workspace_id=dataset.workspace_id)
    headers = {"Authorization": f"Bearer {harness.access_token(dataset.caller_id)}"}
    async with (
        harness.timesheet_server(url, workdir()) as server,
        httpx.AsyncClient(base_url=server.url, headers=headers, timeout=600) as client,
    ):
        await stream_export(client, path, {"format": "csv", "from": warmup_since.isoformat()})
        before = memory_kib(server.pid)["VmRSS"]
        reset_peak(server.pid)
        params = {"format": "csv", "from": since.isoformat()}
        lines, size_bytes, first_byte, seconds = await stream_export(client, path, params)
        peak = memory_kib(server.pid)["VmHWM"]
    if lines != expected + 1:
        raise SystemExit(f"The export has {lines - 1:,} entries, not {expected:,}: incomplete.")
    return ExportRun(expected, size_bytes, first_byte, seconds, before, peak)


async def export(args: argparse.Namespace) -> None:
    url, dataset = await prepared(args)
    print(
        f"Native CSV exports of the newest entries of the workspace of "
        f"{dataset.shape.caller_entries:,}, each from a fresh server after a "
        f"{WARMUP_ENTRIES:,}-entry export; peak = the server's VmHWM during the export."
    )
    runs = []
    for size in (int(size) for size in args.sizes.split(",")):
        runs.append(await export_once(url, dataset, size))
        print(f"  {runs[-1]}", flush=True)
    smallest, largest = runs[0], runs[-1]
    print(
        f"Peak with {largest.entries:,} entries - peak with {smallest.entries:,}: "
        f"{(largest.peak_kib - smallest.peak_kib) / 1024:+.1f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.single", description=(__doc__ or "").split("\n\n")[0]
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--large", action="store_true", help="1,000,000 entries")
    common.add_argument("--database-url", help="PostgreSQL database (emptied when generating)")
    commands = parser.add_subparsers(dest="command", required=True)
    timed = commands.add_parser(
        "summary", parents=[common], help="the month summary: API / asyncpg latency"
    )
    timed.add_argument("--runs", type=int, default=50)
    timed.add_argument("--warmup", type=int, default=5, help="runs not counted")
    sized = commands.add_parser("export", parents=[common], help="peak memory by export size")
    sized.add_argument("--sizes", default="20000,200000", help="entries, comma-separated")
    args = parser.parse_args()
    asyncio.run(summary(args) if args.command == "summary" else export(args))


if __name__ == "__main__":
    main()
