"""What events and the webhook outbox cost one create at a time, measured in-process.

    .venv/bin/python bench/write_path.py [ROUNDS] [--writers K] [--database-url URL]

Makes a user, a workspace with a project, a tag and a webhook on every event (its dispatcher
off: nothing is sent), then times 100 `POST …/time-entries` (in a row, or by K concurrent
writers) for each of three set-ups in turn, ROUNDS times (default 12): events off (the
publish hook a no-op), events with the webhook disabled, and events with the webhook enabled
(each create queues a delivery). The same process, data and machine load weigh on all
three; the medians are printed, nothing is written.
"""

import argparse
import asyncio
import secrets
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import update

from app.config import Environment, Settings
from app.db import events
from app.db.engine import create_engine, create_sessions
from app.db.models import Webhook
from app.main import create_app

CREATES = 100
PASSWORD = "a long password"  # noqa: S105 - a throwaway account
_PUBLISH = events.publish
# How events are published, and whether the workspace's webhook is enabled.
SETUPS: dict[str, tuple[Callable[..., Any], bool]] = {
    "no events": (lambda *_: None, False),
    "events, no webhook": (_PUBLISH, False),
    "events and one webhook": (_PUBLISH, True),
}


async def _signed_in(client: httpx.AsyncClient) -> str:
    """Sign a new account in, with a workspace of its own; the workspace's URL."""
    email = f"write-path-{uuid.uuid4().hex[:8]}@example.com"
    await client.post(
        "/api/v1/auth/register", json={"email": email, "password": PASSWORD, "full_name": "W"}
    )
    signed_in = await client.post(
        "/api/v1/auth/token", data={"username": email, "password": PASSWORD}
    )
    client.headers["Authorization"] = f"Bearer {signed_in.json()['access_token']}"
    workspace = (await client.post("/api/v1/workspaces", json={"name": "W"})).json()["id"]
    return f"/api/v1/workspaces/{workspace}"


async def measure(database_url: str, rounds: int, writers: int) -> dict[str, list[float]]:
    settings = Settings(
        database_url=database_url,
        environment=Environment.PRODUCTION,
        secret_key="write-path-benchmark-secret-key-0123456789",  # noqa: S106 - throwaway
        auto_migrate=False,
        access_log=False,
        webhook_dispatcher=False,
        _env_file=None,
    )
    app = create_app(settings)
    engine = create_engine(settings)
    app.state.engine, app.state.sessions = engine, create_sessions(engine)
    # An address of its own each run: registrations are limited per client address.
    address = f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{secrets.randbelow(256)}"
    transport = httpx.ASGITransport(app=app, client=(address, 1234))
    results: dict[str, list[float]] = {name: [] for name in SETUPS}
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        workspace = await _signed_in(client)
        project = (await client.post(f"{workspace}/projects", json={"name": "P"})).json()["id"]
        tag = (await client.post(f"{workspace}/tags", json={"name": "t"})).json()["id"]
        hook = {"url": "https://93.184.215.14/hook", "event_types": ["*"]}
        assert (await client.post(f"{workspace}/webhooks", json=hook)).status_code == 201
        start, n = datetime(2020, 1, 1, tzinfo=UTC), 0

        async def create(count: int) -> None:
            nonlocal n
            for _ in range(count):
                n += 1
                body = {
                    "project_id": project,
                    "tag_ids": [tag],
                    "start_at": (start + timedelta(minutes=n)).isoformat(),
                    "end_at": (start + timedelta(minutes=n, seconds=30)).isoformat(),
                }
                created = await client.post(f"{workspace}/time-entries", json=body)
                assert created.status_code == 201, created.text

        for _ in range(rounds):
            for name, (publish, webhook) in SETUPS.items():
                events.publish = publish
                async with engine.begin() as connection:
                    await connection.execute(update(Webhook).values(enabled=webhook))
                began = time.perf_counter()
                await asyncio.gather(*(create(CREATES // writers) for _ in range(writers)))
                results[name].append((time.perf_counter() - began) * 1000 / CREATES)
    events.publish = _PUBLISH
    await engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("rounds", type=int, nargs="?", default=12)
    parser.add_argument("--writers", type=int, default=1, help="concurrent writers (divides 100)")
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1/timesheet_bench")
    args = parser.parse_args()
    results = asyncio.run(measure(args.database_url, args.rounds, args.writers))
    for name, times in results.items():
        print(f"{name:24s} median {statistics.median(times):6.2f} ms per create")


if __name__ == "__main__":
    main()
