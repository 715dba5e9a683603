"""At least once, never twice at a time: every delivery owed for an answered write arrives
even when the server is killed right after the write, and two dispatchers never send the
same attempt."""

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from standardwebhooks.webhooks import Webhook as Verifier

from app.config import Settings
from app.db.engine import Sessions
from app.db.models import WebhookDelivery
from app.dispatcher import Dispatcher
from tests.factories import DEFAULT_PASSWORD, TEST_SECRET_KEY, Team, auth_headers
from tests.receivers import Answer, receiving
from tests.servers import environment_without, serving, worker_pids

WRITES = 50
START = datetime(2024, 5, 6, tzinfo=UTC)
DELIVERY_DEADLINE_SECONDS = 90


async def _set_up(client: httpx.AsyncClient, receiver_url: str) -> tuple[str, str]:
    """Register and sign in, create a workspace and a webhook for new entries; the
    workspace's URL and the webhook's secret."""
    email = f"hooks-{uuid.uuid4().hex[:8]}@example.com"
    registered = await client.post(
        "/api/v1/auth/register",
        json={"email": email, "password": DEFAULT_PASSWORD, "full_name": "Hook Test"},
    )
    assert registered.status_code == 201, registered.text
    signed_in = await client.post(
        "/api/v1/auth/token", data={"username": email, "password": DEFAULT_PASSWORD}
    )
    assert signed_in.status_code == 200, signed_in.text
    client.headers["Authorization"] = f"Bearer {signed_in.json()['access_token']}"
    workspace = await client.post("/api/v1/workspaces", json={"name": "Hooks"})
    assert workspace.status_code == 201, workspace.text
    workspace_url = f"/api/v1/workspaces/{workspace.json()['id']}"
    webhook = await client.post(
        f"{workspace_url}/webhooks",
        json={"url": receiver_url, "event_types": ["time_entry.created"]},
    )
    assert webhook.status_code == 201, webhook.text
    return workspace_url, webhook.json()["secret"]


@pytest.mark.committed
async def test_a_killed_server_delivers_every_answered_write_after_a_restart(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    is_postgres: bool,
    tmp_path: Path,
) -> None:
    env = environment_without("DATABASE_URL", "ENVIRONMENT", "SECRET_KEY", "AUTO_MIGRATE")
    env |= {
        "DATABASE_URL": settings.database_url,
        "ENVIRONMENT": "test",
        "SECRET_KEY": TEST_SECRET_KEY,
        "AUTO_MIGRATE": "false",
        "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
        "WEBHOOK_TIMEOUT_SECONDS": "2",
        "WEBHOOK_POLL_SECONDS": "0.2",
    }
    # SQLite has one writer: one worker is what it is served with.
    workers = "2" if is_postgres else "1"
    # A slow receiver, taking one request at a time, so that most deliveries are still
    # owed (or on their way) when the server dies.
    with receiving(one_at_a_time=True) as receiver:
        receiver.default = Answer(200, delay=0.1)
        with serving("--workers", workers, cwd=tmp_path, env=env) as (base, server):
            async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                workspace_url, secret = await _set_up(client, receiver.url)
                entry_ids = set()
                for n in range(WRITES):
                    body = {
                        "start_at": (START + timedelta(minutes=n)).isoformat(),
                        "end_at": (START + timedelta(minutes=n, seconds=30)).isoformat(),
                    }
                    created = await client.post(f"{workspace_url}/time-entries", json=body)
                    assert created.status_code == 201, created.text
                    entry_ids.add(created.json()["id"])
            # The supervisor first: alive, it would replace a killed worker.
            workers_of_server = worker_pids(server.pid)
            os.kill(server.pid, signal.SIGKILL)
            for pid in workers_of_server:
                os.kill(pid, signal.SIGKILL)
            server.wait(timeout=10)
        received_before_restart = len(receiver.received_ids())
        assert received_before_restart < WRITES, "nothing was left to deliver after the kill"

        with serving("--workers", workers, cwd=tmp_path, env=env):
            for _ in range(DELIVERY_DEADLINE_SECONDS * 5):
                if len(receiver.received_ids()) == WRITES:
                    break
                await asyncio.sleep(0.2)

    assert len(receiver.received_ids()) == WRITES, (received_before_restart, len(receiver.requests))
    async with sessionmaker() as session:
        owed = await session.scalar(select(func.count()).select_from(WebhookDelivery))
    assert owed == WRITES  # one each, none twice
    verifier = Verifier(secret)
    delivered = {verifier.verify(r.body, r.headers)["subject"]["id"] for r in receiver.requests}
    assert delivered == entry_ids


@pytest.mark.committed
async def test_two_dispatchers_never_send_the_same_attempt(
    client: AsyncClient, committed_team: Team, sessions: Sessions, settings: Settings
) -> None:
    team = committed_team
    with receiving() as receiver:
        receiver.default = Answer(200, delay=0.02)
        webhook = await client.post(
            f"/api/v1/workspaces/{team.workspace.id}/webhooks",
            json={"url": receiver.url, "event_types": ["client.created"]},
            headers=auth_headers(team.admin),
        )
        assert webhook.status_code == 201, webhook.text
        for n in range(30):
            made = await client.post(
                f"/api/v1/workspaces/{team.workspace.id}/clients",
                json={"name": f"Client {n}"},
                headers=auth_headers(team.admin),
            )
            assert made.status_code == 201, made.text
        async with (
            Dispatcher(sessions, settings, concurrency=4) as first,
            Dispatcher(sessions, settings, concurrency=4) as second,
        ):
            claimed = 0
            while claimed < 30:
                rounds = await asyncio.gather(first.run_once(), second.run_once())
                assert sum(rounds) > 0, "a due delivery was not claimed"
                claimed += sum(rounds)
            assert claimed == 30
            assert await first.run_once() == await second.run_once() == 0
        assert len(receiver.requests) == 30
        assert len(receiver.received_ids()) == 30


@pytest.mark.committed
async def test_webhooks_run_sends_apart_from_the_server_and_stops_on_sigterm(
    client: AsyncClient, committed_team: Team, settings: Settings, tmp_path: Path
) -> None:
    team = committed_team
    env = environment_without("DATABASE_URL", "ENVIRONMENT", "SECRET_KEY", "WEBHOOK_")
    env |= {
        "DATABASE_URL": settings.database_url,
        "ENVIRONMENT": "test",
        "SECRET_KEY": TEST_SECRET_KEY,
        "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
        "WEBHOOK_POLL_SECONDS": "0.2",
    }
    with receiving() as receiver:
        webhook = await client.post(
            f"/api/v1/workspaces/{team.workspace.id}/webhooks",
            json={"url": receiver.url, "event_types": ["client.created"]},
            headers=auth_headers(team.admin),
        )
        assert webhook.status_code == 201, webhook.text
        made = await client.post(
            f"/api/v1/workspaces/{team.workspace.id}/clients",
            json={"name": "Apart"},
            headers=auth_headers(team.admin),
        )
        assert made.status_code == 201, made.text
        executable = str(Path(sys.executable).parent / "timesheet")
        log = tmp_path / "dispatcher.log"
        with log.open("wb") as output:
            process = await asyncio.create_subprocess_exec(
                executable, "webhooks", "run", env=env, stdout=output, stderr=subprocess.STDOUT
            )
        try:
            for _ in range(DELIVERY_DEADLINE_SECONDS * 5):
                if receiver.requests or process.returncode is not None:
                    break
                await asyncio.sleep(0.2)
        finally:
            process.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(process.wait(), 30)
    assert code == 0, log.read_text()
    [request] = receiver.requests
    body = Verifier(webhook.json()["secret"]).verify(request.body, request.headers)
    assert body["subject"]["id"] == made.json()["id"]
    assert "Sending webhooks" in log.read_text()
