"""How much Python a request runs: function calls per request of the hot routes, counted.

    .venv/bin/python -m bench.calls [--database-url URL] [--requests N] [--by-package]

Throughput under wrk moves with whatever else the machine does; the number of Python and
built-in function calls a request makes does not. It is not time (calls differ in cost),
but it falls when the request path does less, and the same code gives the same count on any
machine, so a change can be judged in a busy session. The app runs in this process on a
migrated database (`timesheet db upgrade` first); a new account gets a workspace with a
project, a tag and 60 entries. Each route then gets 20 warm-up requests and N counted ones
(default 50), through httpx's ASGI transport. `/livez` is counted too and subtracted: what
it costs is the client's and the transport's, which every request pays alike.
"""

import argparse
import asyncio
import sys
from collections import Counter
from collections.abc import Awaitable, Callable
from types import FrameType
from typing import Any

from bench.in_process import EntryMaker, InProcess, in_process

# What the counts are grouped by with --by-package: the first of these in a function's file.
PACKAGES = ("/app/", "fastapi", "starlette", "sqlalchemy", "asyncpg", "pydantic", "httpx")


class CallCounter:
    def __init__(self, by_package: bool) -> None:
        self.calls = 0
        self.by_package: Counter[str] = Counter()
        self._grouping = by_package

    def __call__(self, frame: FrameType, event: str, _arg: Any) -> None:
        if event not in ("call", "c_call"):
            return
        self.calls += 1
        if self._grouping:
            filename = frame.f_code.co_filename
            package = next((name for name in PACKAGES if name in filename), "other")
            self.by_package[package.strip("/")] += 1


async def count(
    request: Callable[[int], Awaitable[None]], requests: int, by_package: bool
) -> CallCounter:
    for number in range(20):
        await request(number)
    counter = CallCounter(by_package)
    sys.setprofile(counter)
    try:
        for number in range(requests):
            await request(number)
    finally:
        sys.setprofile(None)
    return counter


async def routes(app: InProcess) -> dict[str, Callable[[int], Awaitable[None]]]:
    client, workspace = app.client, app.workspace
    entries = await EntryMaker.on_new_project(app)
    for _ in range(60):
        await entries.create()
    listed = await client.get(f"{workspace}/time-entries?limit=60")
    ids = [entry["id"] for entry in listed.json()["items"]]

    async def ok(url: str) -> None:
        response = await client.get(url)
        assert response.status_code == 200, response.text

    return {
        "livez": lambda _: ok("/livez"),
        "get one entry": lambda number: ok(f"{workspace}/time-entries/{ids[number % len(ids)]}"),
        "list 50 entries": lambda _: ok(f"{workspace}/time-entries?limit=50"),
        "create (project + tag)": lambda _: entries.create(),
    }


async def measure(database_url: str, requests: int, by_package: bool) -> None:
    async with in_process(database_url) as app:
        counted = {
            name: await count(request, requests, by_package)
            for name, request in (await routes(app)).items()
        }
    floor = counted.pop("livez").calls / requests
    print(f"{'request':24s} {'calls':>8s} {'minus /livez':>13s}")
    for name, counter in counted.items():
        per_request = counter.calls / requests
        print(f"{name:24s} {per_request:8.0f} {per_request - floor:13.0f}")
        for package, calls in counter.by_package.most_common():
            print(f"    {package:20s} {calls / requests:8.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1/timesheet_bench")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--by-package", action="store_true")
    args = parser.parse_args()
    asyncio.run(measure(args.database_url, args.requests, args.by_package))


if __name__ == "__main__":
    main()
