"""What `python -m bench` does once its command line is read: start the servers, check
that they answer alike, drive each scenario with wrk and write the report.

The real server is `timesheet serve` with one worker; the baseline is `bench.baseline` under
uvicorn with one worker. Both log every request, and the statuses in those access logs are
how failed requests are counted.
"""

import argparse
import asyncio
import json
import os
import platform
import re
import socket
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import asyncpg
import httpx

from app.config import normalize_database_url
from app.security import create_access_token
from bench import data

ROOT = Path(__file__).resolve().parents[1]
LUA = Path(__file__).with_name("wrk.lua")
SECRET_KEY = "timesheet-benchmark-secret-key-0123456789"  # noqa: S105 - a throwaway database
API = "/api/v1"
SUMMARY_ROUTE = f"{API}/workspaces/{{workspace_id}}/reports/summary"
PAGE_SIZE, DEEP_PAGE = 20, 1_000
UPDATE_POOL = 1_000
ACCESS_LOG_STATUS = re.compile(rb'HTTP/[\d.]+" (\d{3})')


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    mode: str  # how wrk.lua makes requests: get, create, update or timer
    path: str = ""  # for get, the path and query; for create and update, the collection
    baseline: bool = True  # the baseline answers it


@dataclass(frozen=True)
class Result:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    failures: Counter[int]  # non-2xx responses by status, from the server's access log
    socket_errors: int
    # The server process's CPU time (user and system) per request answered: unlike req/s,
    # other work on the machine moves it little.
    cpu_us: float


@dataclass(frozen=True)
class Server:
    name: str
    url: str
    log: Path
    pid: int


# Servers


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@asynccontextmanager
async def serve(
    name: str, command: list[str], env: dict[str, str], workdir: Path
) -> AsyncIterator[Server]:
    """Run `command` on a free port until the block ends; ready once /readyz answers 200."""
    port = free_port()
    log_path = workdir / f"{name}.log"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            *command,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            # Outside the repository, so that no .env file changes the settings.
            cwd=workdir,
            env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
        )
    server = Server(name, f"http://127.0.0.1:{port}", log_path, process.pid)
    try:
        await _wait_ready(server, process)
        yield server
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 15)
            except TimeoutError:
                process.kill()
                await process.wait()


async def _wait_ready(server: Server, process: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                break
            try:
                if (await client.get(f"{server.url}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    tail = server.log.read_text(errors="replace")[-3000:]
    raise SystemExit(f"{server.name} did not become ready; its log ends with:\n{tail}")


def timesheet_server(database_url: str, workdir: Path) -> AbstractAsyncContextManager[Server]:
    cli = Path(sys.executable).with_name("timesheet")
    env = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET_KEY,
        "ENVIRONMENT": "production",
        "AUTO_MIGRATE": "false",
        # `--webhook` delivers to a receiver of its own on 127.0.0.1 (code without webhooks
        # ignores the setting).
        "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
    }
    name = "timesheet-sqlite" if database_url.startswith("sqlite") else "timesheet"
    return serve(name, [str(cli), "serve", "--workers", "1"], env, workdir)


def baseline_server(database_url: str, workdir: Path) -> AbstractAsyncContextManager[Server]:
    command = [sys.executable, "-m", "uvicorn", "bench.baseline:create_app", "--factory"]
    env = {"BENCH_DATABASE_URL": data.libpq_url(database_url), "BENCH_SECRET_KEY": SECRET_KEY}
    return serve("baseline", [*command, "--workers", "1"], env, workdir)


class _Receiver(BaseHTTPRequestHandler):
    """Takes webhook deliveries and answers 204; counts them."""

    received = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        type(self).received += 1
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@asynccontextmanager
async def webhook_subscribed(
    server: Server, dataset: data.Dataset, notes: list[str]
) -> AsyncIterator[None]:
    """One webhook on every event of the caller's workspace, delivered by the server's own
    dispatcher to a receiver in this process; at the end, a note of how many arrived."""
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    receiver.daemon_threads = True
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    port = receiver.server_address[1]
    token = access_token(dataset.caller_id)
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        created = await client.post(
            f"{API}/workspaces/{dataset.workspace_id}/webhooks",
            json={"url": f"http://127.0.0.1:{port}/hook", "event_types": ["*"]},
            headers={"Authorization": f"Bearer {token}"},
        )
        if created.status_code != 201:
            raise SystemExit(f"--webhook: the app did not create a webhook: {created.text}")
        webhook_url = f"{API}/workspaces/{dataset.workspace_id}/webhooks/{created.json()['id']}"
        try:
            yield
        finally:
            await client.delete(webhook_url, headers={"Authorization": f"Bearer {token}"})
            receiver.shutdown()
            receiver.server_close()
            notes.append(
                "One webhook subscribed to every event (`*`) of the caller's workspace, sent "
                "by the server's own dispatcher to a receiver on 127.0.0.1 answering 204: "
                f"{_Receiver.received:,} deliveries arrived during the run"
            )


# What to measure


def access_token(user_id: uuid.UUID) -> str:
    # Generated users are at token generation 0.
    return create_access_token(user_id, 0, secret_key=SECRET_KEY, ttl_seconds=24 * 3600)


def entries_path(dataset: data.Dataset) -> str:
    return f"{API}/workspaces/{dataset.workspace_id}/time-entries"


async def deep_cursor(server: Server, dataset: data.Dataset, token: str) -> str:
    """The cursor of page DEEP_PAGE of PAGE_SIZE entries, walked to through the API itself."""
    remaining, cursor = (DEEP_PAGE - 1) * PAGE_SIZE, None
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=60) as client:
        while remaining:
            # Big pages get there sooner; the cursor names a row, not a page size.
            params: dict[str, Any] = {"limit": min(200, remaining)}
            if cursor:
                params["cursor"] = cursor
            response = await client.get(entries_path(dataset), params=params)
            response.raise_for_status()
            cursor = response.json()["next_cursor"]
            if cursor is None:
                raise SystemExit(f"The caller's workspace has no page {DEEP_PAGE}.")
            remaining -= params["limit"]
    return cursor


def summary_params(dataset: data.Dataset) -> dict[str, str]:
    """The summary of the last whole month before the data's anchor, by project and day."""
    to = dataset.anchor.date().replace(day=1)
    since = (to - timedelta(days=1)).replace(day=1)
    return {
        "group_by": "project",
        "sub_group_by": "day",
        "from": since.isoformat(),
        "to": to.isoformat(),
        "tz": "UTC",
    }


async def summary_path(server: Server, dataset: data.Dataset) -> str | None:
    """The month summary's path and query, if the app has the route."""
    async with httpx.AsyncClient(base_url=server.url) as client:
        paths = (await client.get("/openapi.json")).json()["paths"]
    if "get" not in paths.get(SUMMARY_ROUTE, {}):
        return None
    path = SUMMARY_ROUTE.format(workspace_id=dataset.workspace_id)
    return f"{path}?{urlencode(summary_params(dataset))}"


def plan(dataset: data.Dataset, cursor: str, summary: str | None) -> list[Scenario]:
    entries = entries_path(dataset)
    scenarios = [
        Scenario("list", "list 50 entries", "get", f"{entries}?limit=50"),
        Scenario("get", "get one entry", "get", f"{entries}/{dataset.entry_id}"),
        Scenario("page-1", f"page 1 of {PAGE_SIZE}", "get", f"{entries}?limit={PAGE_SIZE}"),
        Scenario(
            "page-1000",
            f"page {DEEP_PAGE:,} of {PAGE_SIZE}",
            "get",
            f"{entries}?limit={PAGE_SIZE}&cursor={cursor}",
        ),
    ]
    if summary:
        scenarios.append(
            Scenario("summary", "month summary by project and day", "get", summary, False)
        )
    return [
        *scenarios,
        Scenario("create", "create (project + tag)", "create", entries),
        Scenario("update", "update with If-Match", "update", entries),
        Scenario("timer", "timer start / stop", "timer"),
    ]


# Comparing the two apps


def comparable(body: Any) -> Any:
    """The body without what legitimately differs: running entries' durations count to now."""
    for entry in body.get("items", [body]):
        if entry.get("end_at") is None:
            entry.pop("duration_seconds", None)
    return body


def difference(left: Any, right: Any, where: str = "body") -> str:
    if isinstance(left, dict) and isinstance(right, dict):
        for key in sorted(left.keys() | right.keys()):
            if left.get(key, ...) != right.get(key, ...):
                return difference(left.get(key, ...), right.get(key, ...), f"{where}.{key}")
    if isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        for index, (one, other) in enumerate(zip(left, right, strict=True)):
            if one != other:
                return difference(one, other, f"{where}[{index}]")
    return f"{where}: {left!r} != {right!r}"


async def check_same_json(servers: list[Server], paths: list[str], token: str) -> None:
    """Refuse to compare apps that answer differently: that would not be the same work."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(headers=headers, timeout=60) as client:
        for path in paths:
            bodies = []
            for server in servers:
                response = await client.get(server.url + path)
                if response.status_code != 200:
                    raise SystemExit(
                        f"{server.name} answered {response.status_code} to GET {path}: "
                        f"{response.text[:1000]}"
                    )
                bodies.append(comparable(response.json()))
            if bodies[0] != bodies[1]:
                raise SystemExit(
                    f"Timesheet and the baseline differ on GET {path}: {difference(*bodies)}"
                )


# Driving wrk


class Bench:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.update_runs = 0

    def chosen(self, scenarios: list[Scenario]) -> list[Scenario]:
        """The scenarios `--only` names, or all of them."""
        if not self.args.only:
            return scenarios
        wanted = set(self.args.only.split(","))
        return [scenario for scenario in scenarios if scenario.key in wanted]

    async def inputs(self, scenario: Scenario, dataset: data.Dataset, url: str) -> dict[str, str]:
        """What wrk.lua needs for `scenario`, read afresh: earlier runs moved versions on."""
        env = {
            "BENCH_SCENARIO": scenario.mode,
            "BENCH_THREADS": str(self.args.threads),
            "BENCH_TOKEN": access_token(dataset.caller_id),
            "BENCH_PATH": scenario.path,
        }
        if scenario.mode == "create":
            env["BENCH_PROJECT"] = str(dataset.project_id)
            env["BENCH_TAG"] = str(dataset.tag_id)
            latest = await data.latest_end(url, dataset.caller_id)
            env["BENCH_START"] = str(int(latest.timestamp()) + 3600)
        elif scenario.mode == "update":
            # Entries no earlier run touched: wrk leaves requests in flight when it stops.
            self.update_runs += 1
            versions = await data.current_versions(url, dataset, UPDATE_POOL, self.update_runs)
            env["BENCH_POOL"] = self.write_lines("pool", [f"{i} {v}" for i, v in versions])
        elif scenario.mode == "timer":
            env["BENCH_USERS"] = self.write_lines(
                "users",
                [
                    f"{access_token(user_id)} {API}/workspaces/{workspace_id}/timer {user_id}"
                    for user_id, workspace_id in dataset.members
                ],
            )
        return env

    def write_lines(self, name: str, lines: list[str]) -> str:
        path = self.workdir / f"{name}.txt"
        path.write_text("\n".join(lines) + "\n")
        return str(path)

    async def wrk(
        self, server: Server, scenario: Scenario, env: dict[str, str], seconds: int
    ) -> dict[str, Any]:
        args = self.args
        url = server.url + (scenario.path if scenario.mode == "get" else "")
        process = await asyncio.create_subprocess_exec(
            *("wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds}s"),
            *("--timeout", "30s", "-s", str(LUA), url),
            env={**os.environ, **env},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await process.communicate()
        for line in out.decode().splitlines():
            if line.startswith("BENCH_RESULT "):
                outcome = json.loads(line.removeprefix("BENCH_RESULT "))
                # Let the requests wrk abandoned finish before anything reads what they write.
                await asyncio.sleep(max(0.5, 2 * outcome["p99_ms"] / 1000))
                return outcome
        raise SystemExit(f"wrk failed on {scenario.key}:\n{out.decode()}{err.decode()}")

    async def measure(
        self, server: Server, scenario: Scenario, dataset: data.Dataset, url: str
    ) -> Result:
        if self.args.warmup:
            env = await self.inputs(scenario, dataset, url)
            await self.wrk(server, scenario, env, self.args.warmup)
        env = await self.inputs(scenario, dataset, url)
        logged = server.log.stat().st_size
        cpu_before = cpu_seconds(server.pid)
        outcome = await self.wrk(server, scenario, env, self.args.duration)
        cpu_used = cpu_seconds(server.pid) - cpu_before
        with server.log.open("rb") as log:
            log.seek(logged)
            statuses = Counter(int(code) for code in ACCESS_LOG_STATUS.findall(log.read()))
        result = Result(
            requests_per_second=outcome["requests"] / outcome["seconds"],
            p50_ms=outcome["p50_ms"],
            p99_ms=outcome["p99_ms"],
            failures=Counter({code: n for code, n in statuses.items() if not 200 <= code < 300}),
            socket_errors=outcome["socket_errors"],
            cpu_us=cpu_used * 1e6 / max(outcome["requests"], 1),
        )
        print(
            f"  {server.name:16} {scenario.title:24} {result.requests_per_second:8,.0f} req/s"
            f"  p50 {result.p50_ms:7.1f} ms  p99 {result.p99_ms:7.1f} ms"
            f"  CPU {result.cpu_us:6,.0f} µs/req  {failures(result)}",
            flush=True,
        )
        return result


def cpu_seconds(pid: int) -> float:
    """The user and system CPU time a process has used so far, from /proc."""
    # The command name, in parentheses, may hold spaces: the fields after it are counted.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# Reporting


def failures(result: Result | None) -> str:
    if result is None:
        return "-"
    parts = [f"{code}: {count:,}" for code, count in sorted(result.failures.items())]
    if result.socket_errors:
        parts.append(f"{result.socket_errors:,} socket errors")
    return ", ".join(parts) or "0"


def numbers(result: Result | None) -> list[str]:
    if result is None:
        return ["-", "-", "-"]
    return [
        f"{result.requests_per_second:,.0f}",
        f"{result.p50_ms:.1f}",
        f"{result.p99_ms:.1f}",
    ]


def ratio(result: Result | None, reference: Result | None) -> str:
    if result is None or reference is None:
        return "-"
    return f"{result.requests_per_second / reference.requests_per_second:.2f}"


def cpu_ratio(result: Result | None, reference: Result | None) -> str:
    """The baseline's CPU per request over ours: the share of the baseline's throughput that
    our server would reach if the CPU it runs on were the only limit."""
    if result is None or reference is None:
        return "-"
    return f"{reference.cpu_us / result.cpu_us:.2f}"


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    align = ["---"] + ["---:"] * (len(header) - 1)
    return "\n".join("| " + " | ".join(row) + " |" for row in [header, align, *rows])


def postgres_table(
    scenarios: list[Scenario], timesheet: dict[str, Result], baseline: dict[str, Result]
) -> str:
    header = ["scenario", "Timesheet req/s", "p50 ms", "p99 ms"]
    header += ["baseline req/s", "p50 ms", "p99 ms", "ratio"]
    header += ["CPU µs/req (Timesheet / baseline)", "CPU ratio", "non-2xx (Timesheet / baseline)"]
    rows = []
    for scenario in scenarios:
        ours, theirs = timesheet[scenario.key], baseline.get(scenario.key)
        row = [scenario.title, *numbers(ours), *numbers(theirs), ratio(ours, theirs)]
        cpu = f"{ours.cpu_us:,.0f} / {theirs.cpu_us:,.0f}" if theirs else f"{ours.cpu_us:,.0f} / -"
        row += [cpu, cpu_ratio(ours, theirs)]
        rows.append([*row, f"{failures(ours)} / {failures(theirs)}"])
    return markdown_table(header, rows)


def sqlite_table(
    scenarios: list[Scenario], sqlite: dict[str, Result], baseline: dict[str, Result]
) -> str:
    header = ["scenario", "Timesheet on SQLite req/s", "p50 ms", "p99 ms"]
    header += ["ratio to the PostgreSQL baseline", "non-2xx"]
    rows = []
    for scenario in scenarios:
        ours = sqlite[scenario.key]
        rows.append(
            [
                scenario.title,
                *numbers(ours),
                ratio(ours, baseline.get(scenario.key)),
                failures(ours),
            ]
        )
    return markdown_table(header, rows)


def machine(postgres_version: str) -> str:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    cpu = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    memory = re.search(r"^MemTotal:\s*(\d+) kB", Path("/proc/meminfo").read_text(), re.M)
    ram = f"{int(memory[1]) / 2**20:.1f} GiB RAM" if memory else "RAM unknown"
    return (
        f"{cpu[1].strip() if cpu else platform.processor()}, {os.cpu_count()} cores, {ram}; "
        f"PostgreSQL {postgres_version}; Python {platform.python_version()}; "
        f"load average {os.getloadavg()[0]:.2f} when the run began"
    )


def write_section(docs: Path, label: str, text: str) -> None:
    """Replace the section of `docs` marked with `label`, or add it at the end."""
    start, end = f"<!-- bench:{label} -->", f"<!-- /bench:{label} -->"
    section = f"{start}\n{text.strip()}\n{end}"
    current = docs.read_text() if docs.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    if pattern.search(current):
        updated = pattern.sub(lambda _: section, current)
    else:
        updated = f"{current.rstrip()}\n\n{section}\n"
    docs.parent.mkdir(parents=True, exist_ok=True)
    docs.write_text(updated)


# The run


async def postgres_version(url: str) -> str:
    connection = await asyncpg.connect(data.libpq_url(url))
    try:
        return await connection.fetchval("SHOW server_version")
    finally:
        await connection.close()


async def against_baseline(
    bench: Bench, url: str, dataset: data.Dataset, notes: list[str]
) -> tuple[list[Scenario], dict[str, Result], dict[str, Result]]:
    """Both apps on PostgreSQL, scenario by scenario: Timesheet, then the baseline."""
    token = access_token(dataset.caller_id)
    timesheet: dict[str, Result] = {}
    baseline: dict[str, Result] = {}
    async with (
        timesheet_server(url, bench.workdir) as real,
        baseline_server(url, bench.workdir) as bare,
        AsyncExitStack() as subscribed,
    ):
        if bench.args.webhook:
            await subscribed.enter_async_context(webhook_subscribed(real, dataset, notes))
        summary = await summary_path(real, dataset)
        if summary is None:
            notes.append(f"Month summary: skipped, the app has no `GET {SUMMARY_ROUTE}`.")
        else:
            notes.append("Month summary: Timesheet alone, the baseline has no such route.")
        scenarios = bench.chosen(plan(dataset, await deep_cursor(real, dataset, token), summary))
        reads = [s.path for s in scenarios if s.mode == "get" and s.baseline]
        await check_same_json([real, bare], reads, token)
        print(f"Both apps return the same JSON for {len(reads)} reads; measuring.", flush=True)
        for scenario in scenarios:
            timesheet[scenario.key] = await bench.measure(real, scenario, dataset, url)
            if scenario.baseline:
                baseline[scenario.key] = await bench.measure(bare, scenario, dataset, url)
    return scenarios, timesheet, baseline


async def on_sqlite(
    bench: Bench, path: str, shape: data.Shape
) -> tuple[list[Scenario], dict[str, Result]]:
    """Timesheet alone on a SQLite file holding the same data."""
    url = normalize_database_url(f"sqlite:///{path}")
    dataset = await data.prepare(url, shape, regenerate=bench.args.regenerate)
    results: dict[str, Result] = {}
    async with timesheet_server(url, bench.workdir) as real:
        cursor = await deep_cursor(real, dataset, access_token(dataset.caller_id))
        scenarios = bench.chosen(plan(dataset, cursor, await summary_path(real, dataset)))
        for scenario in scenarios:
            results[scenario.key] = await bench.measure(real, scenario, dataset, url)
    return scenarios, results


async def run(args: argparse.Namespace, origin: dict[str, str]) -> None:
    shape_name = "large" if args.large else "default"
    shape = data.SHAPES[shape_name]
    url = normalize_database_url(args.database_url or data.default_database_url(shape_name))
    started = datetime.now(UTC)
    environment = machine(await postgres_version(url))
    dataset = await data.prepare(url, shape, regenerate=args.regenerate)
    if args.connections > len(dataset.members):
        # Each user has one timer request in flight at a time (see wrk.lua).
        raise SystemExit(f"At most {len(dataset.members)} connections: the timer's users.")
    bench = Bench(args, Path(tempfile.mkdtemp(prefix="timesheet-bench-")))
    notes: list[str] = []

    scenarios, timesheet, baseline = await against_baseline(bench, url, dataset, notes)
    sections = [postgres_table(scenarios, timesheet, baseline)]
    if args.sqlite:
        sqlite_scenarios, sqlite = await on_sqlite(bench, args.sqlite_path, shape)
        sections.append(
            "Timesheet on SQLite, the same data in a file. The baseline speaks only "
            "PostgreSQL: the ratio is to its numbers above.\n\n"
            + sqlite_table(sqlite_scenarios, sqlite, baseline)
        )

    load = f"`wrk -t{args.threads} -c{args.connections} -d{args.duration}s`"
    text = "\n".join(
        [
            f"## {args.label}",
            "",
            f"Measured {started:%Y-%m-%d %H:%M} UTC on {origin['code']}.",
            "",
            f"- Command: `{origin['command']}`",
            f"- Machine: {environment}",
            f"- Data: {shape.entries:,} entries in {shape.workspaces} workspaces; the caller "
            f"owns the one holding {shape.caller_entries:,}",
            f"- Load: {load} per scenario and app, after a {args.warmup} s warm-up; one "
            "server worker each; ratio = Timesheet req/s / baseline req/s; CPU µs/req = "
            "the server process's CPU time over the requests it answered, and CPU ratio = "
            "baseline CPU µs/req / Timesheet CPU µs/req (other load moves these little)",
            *(f"- {note}" for note in notes),
            "",
            "\n\n".join(sections),
        ]
    )
    print(f"\n{text}\n\nServer logs: {bench.workdir}")
    write_section(Path(args.docs), args.label, text)
    print(f"Wrote the '{args.label}' section of {args.docs}")
