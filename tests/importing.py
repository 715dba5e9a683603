"""Following an upload's run to its end, as a client polls it."""

from typing import Any

import httpx
from fastapi import FastAPI

from app.import_runner import ImportRunner

ENDED = ("succeeded", "failed")


async def finished_run(
    app: FastAPI, client: httpx.AsyncClient, queued: httpx.Response, headers: dict[str, str]
) -> dict[str, Any]:
    """The run an upload answered 202 for, polled at its `Location` until it ended; the
    tests' app has no runner of its own, so one runs here between the polls."""
    assert queued.status_code == 202, queued.text
    assert queued.json()["status"] == "queued"
    location = queued.headers["location"]
    runner = ImportRunner(app.state.sessions, app.state.settings)
    for _ in range(100):
        polled = await client.get(location, headers=headers)
        assert polled.status_code == 200, polled.text
        run = polled.json()
        if run["status"] in ENDED:
            return run
        await runner.run_once()
    raise AssertionError(f"the run did not end: {run}")
