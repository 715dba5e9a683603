"""`timesheet serve --workers 2`: the metrics of both workers add up, whichever answers, and
the output is one JSON line per request with no secrets in it."""

import json
from pathlib import Path

import httpx

from tests.servers import environment_without, serving
from tests.test_observability import request_counts

# Enough fresh connections that both workers take some.
MAX_REQUESTS = 500
SCRAPES = 6
PASSWORD = "a long password for serve"


def _workers_that_counted(metrics_dir: Path) -> set[str]:
    return {path.stem.removeprefix("counter_") for path in metrics_dir.glob("counter_*.db")}


def test_two_workers_add_up_and_log_json(tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = environment_without("DATABASE_URL", "ENVIRONMENT", "PROMETHEUS_", "LOG_", "METRICS_")
    # The serve command makes its metrics directory in TMPDIR: here, where the test sees it.
    env.update({"LOG_FORMAT": "json", "TMPDIR": str(scratch)})
    with serving("--workers", "2", cwd=tmp_path, env=env) as (base, _process):
        (metrics_dir,) = scratch.glob("timesheet-metrics-*")

        sent = 0
        while len(_workers_that_counted(metrics_dir)) < 2 and sent < MAX_REQUESTS:
            # A new connection each time, so that either worker may accept it.
            assert httpx.get(f"{base}/livez", headers={"Connection": "close"}).status_code == 200
            sent += 1
        assert len(_workers_that_counted(metrics_dir)) == 2

        for _ in range(SCRAPES):
            exposition = httpx.get(f"{base}/metrics", headers={"Connection": "close"}).text
            assert request_counts(exposition)[("GET", "/livez", "200")] == sent

        registered = httpx.post(
            f"{base}/api/v1/auth/register",
            json={"email": "ada@example.com", "password": PASSWORD, "full_name": "Ada"},
        )
        assert registered.status_code == 201
        token = httpx.post(
            f"{base}/api/v1/auth/token",
            data={"username": "ada@example.com", "password": PASSWORD},
        ).json()["access_token"]
        me = httpx.get(
            f"{base}/api/v1/users/me",
            headers={"Authorization": f"Bearer {token}", "X-Request-ID": "serve-check"},
        )
        assert me.status_code == 200
        assert me.headers["x-request-id"] == "serve-check"

    # The directory lives as long as the server.
    assert not metrics_dir.exists()

    written = (tmp_path / "server.log").read_text()
    records = [json.loads(line) for line in written.splitlines()]
    requests = [record for record in records if record["logger"] == "timesheet.access"]
    # Exactly one line per request: uvicorn's own access log is off.
    assert not [record for record in records if record["logger"] == "uvicorn.access"]
    assert len([r for r in requests if r["route"] == "/livez"]) == sent
    (me_line,) = [r for r in requests if r["route"] == "/api/v1/users/me"]
    assert me_line["request_id"] == "serve-check"
    assert me_line["status"] == 200
    assert me_line["method"] == "GET"
    assert isinstance(me_line["duration_ms"], float)
    assert me_line["user_id"] == me.json()["id"]
    for secret in (PASSWORD, token, "Bearer"):
        assert secret not in written
