"""What events and the webhook outbox cost one create at a time, measured in-process.

    .venv/bin/python -m bench.write_path [ROUNDS] [--writers K] [--database-url URL]

Makes a user, a workspace with a project, a tag and a webhook on every event (its dispatcher
off: nothing is sent), then times 100 `POST …/time-entries` (in a row, or by K concurrent
writers) for each of three set-ups in turn, ROUNDS times (default 12): events off (the
publish hook a no-op), events with the webhook disabled, and events with the webhook enabled
(each create queues a delivery). The same process, data and machine load weigh on all
three; the medians are printed, nothing is written.
"""

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import update

from app.db import events
from app.db.models import Webhook
from bench.in_process import EntryMaker, in_process

CREATES = 100
_PUBLISH = events.publish
# How events are published, and whether the workspace's webhook is enabled.
SETUPS: dict[str, tuple[Callable[..., Any], bool]] = {
    "no events": (lambda *_: None, False),
    "events, no webhook": (_PUBLISH, False),
    "events and one webhook": (_PUBLISH, True),
}


async def measure(database_url: str, rounds: int, writers: int) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {name: [] for name in SETUPS}
    async with in_process(database_url) as app:
        client, workspace = app.client, app.workspace
        entries = await EntryMaker.on_new_project(app)
        hook = {"url": "https://93.184.215.14/hook", "event_types": ["*"]}
        assert (await client.post(f"{workspace}/webhooks", json=hook)).status_code == 201

        async def create(count: int) -> None:
            for _ in range(count):
                await entries.create()

        try:
            for _ in range(rounds):
                for name, (publish, webhook) in SETUPS.items():
                    events.publish = publish
                    async with app.engine.begin() as connection:
                        await connection.execute(update(Webhook).values(enabled=webhook))
                    began = time.perf_counter()
                    await asyncio.gather(*(create(CREATES // writers) for _ in range(writers)))
                    results[name].append((time.perf_counter() - began) * 1000 / CREATES)
        finally:
            events.publish = _PUBLISH
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
