"""The app in this process, on a migrated database, with a signed-in client: for the
benchmarks that look at one request at a time rather than at a server under load."""

import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Environment, Settings
from app.db.engine import create_engine, create_sessions
from app.main import create_app

PASSWORD = "a long password"  # noqa: S105 - a throwaway account
FIRST_ENTRY = datetime(2020, 1, 1, tzinfo=UTC)


@dataclass
class InProcess:
    client: httpx.AsyncClient
    engine: AsyncEngine
    # The signed-in account's own workspace, as a URL prefix.
    workspace: str


@asynccontextmanager
async def in_process(database_url: str) -> AsyncIterator[InProcess]:
    """The app with production settings (no migrations, no webhook dispatcher), a new
    account signed in to a workspace of its own."""
    settings = Settings(
        database_url=database_url,
        environment=Environment.PRODUCTION,
        secret_key="in-process-benchmark-secret-key-0123456789",  # noqa: S106 - throwaway
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
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            yield InProcess(client, engine, await _signed_in(client))
    finally:
        await engine.dispose()


class EntryMaker:
    """New entries on a project of the account's workspace, with a tag: each half a minute
    long and a minute after the one before, so that none overlaps another."""

    def __init__(self, app: InProcess, project: str, tag: str) -> None:
        self.app, self.project, self.tag = app, project, tag
        self.made = 0

    @classmethod
    async def on_new_project(cls, app: InProcess) -> "EntryMaker":
        client, workspace = app.client, app.workspace
        project = (await client.post(f"{workspace}/projects", json={"name": "P"})).json()["id"]
        tag = (await client.post(f"{workspace}/tags", json={"name": "t"})).json()["id"]
        return cls(app, project, tag)

    async def create(self) -> None:
        self.made += 1
        start = FIRST_ENTRY + timedelta(minutes=self.made)
        body = {
            "project_id": self.project,
            "tag_ids": [self.tag],
            "start_at": start.isoformat(),
            "end_at": (start + timedelta(seconds=30)).isoformat(),
        }
        response = await self.app.client.post(f"{self.app.workspace}/time-entries", json=body)
        assert response.status_code == 201, response.text


async def _signed_in(client: httpx.AsyncClient) -> str:
    email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
    await client.post(
        "/api/v1/auth/register", json={"email": email, "password": PASSWORD, "full_name": "W"}
    )
    signed_in = await client.post(
        "/api/v1/auth/token", data={"username": email, "password": PASSWORD}
    )
    client.headers["Authorization"] = f"Bearer {signed_in.json()['access_token']}"
    workspace = (await client.post("/api/v1/workspaces", json={"name": "W"})).json()["id"]
    return f"/api/v1/workspaces/{workspace}"
