"""What every edit goes through: If-Match on each PATCH and DELETE, and a short statement list."""

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.factories import Team, auth_headers, make_entry, make_project, make_tag, make_webhook
from tests.sent import sent_statements
from tests.tracking import entries_url, tag_entry

# Unversioned rows, and bulk routes that answer per item.
WITHOUT_IF_MATCH = {
    ("delete", "/api/v1/users/me/tokens/{token_id}"),
    ("patch", "/api/v1/workspaces/{workspace_id}/time-entries"),
    ("delete", "/api/v1/workspaces/{workspace_id}/time-entries"),
}


def test_every_patch_and_delete_checks_if_match(app: FastAPI) -> None:
    operations = [
        (method, path, operation)
        for path, methods in app.openapi()["paths"].items()
        for method, operation in methods.items()
        if method in ("patch", "delete")
    ]
    assert len(operations) > 15
    for method, path, operation in operations:
        headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        expected = (method, path) not in WITHOUT_IF_MATCH
        assert ("If-Match" in headers) is expected, (method, path)


def publishing(engine: AsyncEngine, webhook: bool = False) -> list[str]:
    """What publishing a commit's events sends. PostgreSQL: one statement numbering them
    (the upsert of the workspace's counter), inserting them and queueing their deliveries.
    SQLite: the upsert, which also says whether the workspace has an enabled webhook, the
    events, and only with a webhook the deliveries they owe."""
    if engine.dialect.name == "postgresql":
        return ["WITH"]
    return ["INSERT", "INSERT", *(["INSERT"] if webhook else [])]


@pytest.fixture
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """Every statement sent, savepoints included; BEGIN is left out, as PostgreSQL's driver
    sends it without a cursor."""
    sent: list[str] = []

    def record(statement: str) -> None:
        if not statement.startswith("BEGIN"):
            sent.append(" ".join(statement.split()[:3]))

    with sent_statements(engine, record):
        yield sent


@pytest.mark.committed
@pytest.mark.parametrize("webhook", [False, True], ids=["no-webhook", "webhook"])
async def test_a_patch_sends_a_few_statements_and_no_savepoint(
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
    committed_team: Team,
    statements: list[str],
    webhook: bool,
) -> None:
    team = committed_team
    async with sessionmaker() as session:
        tag = await make_tag(session, team.workspace)
        if webhook:
            await make_webhook(session, team.workspace, team.owner)
        await session.commit()
    statements.clear()
    response = await client.patch(
        f"/api/v1/workspaces/{team.workspace.id}/tags/{tag.id}",
        json={"name": "renamed"},
        headers={**auth_headers(team.admin), "If-Match": '"1"'},
    )
    assert response.status_code == 200, response.text
    # The caller with their membership and workspace, the tag, the update, then the event
    # with the deliveries it owes, written with it so that a crash after the commit loses none.
    kinds = [statement.split()[0] for statement in statements]
    assert kinds == ["SELECT", "SELECT", "UPDATE", *publishing(engine, webhook)], statements


@pytest.mark.committed
async def test_a_time_entry_patch_reads_once_and_writes_once(
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
    committed_team: Team,
    statements: list[str],
) -> None:
    team = committed_team
    async with sessionmaker() as session:
        entry = await make_entry(session, team.workspace, team.member)
        await session.commit()
    statements.clear()
    url = f"{entries_url(team.workspace)}/{entry.id}"
    response = await client.patch(
        url, json={"description": "notes"}, headers={**auth_headers(team.member), "If-Match": '"1"'}
    )
    assert response.status_code == 200, response.text
    assert not [s for s in statements if s.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK"))]
    # The caller with their membership, the entry with its tags (one statement), the lock
    # on the entry's user and its closed time (so that no decision on its period, nor a move
    # of `locked_before`, slips between the check and the write), the update and the event;
    # the response is rendered from what was written, with no read-back.
    assert len(statements) == 5 + len(publishing(engine)), statements


@pytest.mark.committed
async def test_creating_an_entry_checks_its_references_and_inserts(
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
    committed_team: Team,
    statements: list[str],
) -> None:
    team = committed_team
    async with sessionmaker() as session:
        project = await make_project(session, team.workspace, hourly_rate_cents=5000)
        tag = await make_tag(session, team.workspace)
        await session.commit()
    statements.clear()
    body = {
        "start_at": "2024-04-22T09:00:00Z",
        "end_at": "2024-04-22T10:00:00Z",
        "project_id": str(project.id),
        "tag_ids": [str(tag.id)],
    }
    response = await client.post(
        entries_url(team.workspace), json=body, headers=auth_headers(team.member)
    )
    assert response.status_code == 201, response.text
    assert response.json()["tag_ids"] == [str(tag.id)]
    assert response.json()["hourly_rate_cents"] is None  # members do not see rates here
    # The caller, the project as the caller meets it with the live tags among those named
    # (one statement), the lock on the user and their closed time (a write into a period
    # being decided waits for the decision), the entry and its tag links (one statement on
    # PostgreSQL) and the event.
    kinds = [statement.split()[0] for statement in statements]
    inserts = ["WITH"] if engine.dialect.name == "postgresql" else ["INSERT"] * 2
    assert kinds == ["SELECT"] * 4 + inserts + publishing(engine), statements


@pytest.mark.committed
async def test_reading_entries_is_one_statement_after_the_caller(
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    committed_team: Team,
    statements: list[str],
) -> None:
    team = committed_team
    async with sessionmaker() as session:
        tag = await make_tag(session, team.workspace)
        entry = await make_entry(session, team.workspace, team.member)
        await tag_entry(session, entry, tag)
        await session.commit()
    headers = auth_headers(team.member)
    for url in (f"{entries_url(team.workspace)}/{entry.id}", entries_url(team.workspace)):
        statements.clear()
        response = await client.get(url, headers=headers)
        assert response.status_code == 200, response.text
        # The caller with their membership, then the entries with their tag ids.
        assert len(statements) == 2, statements
    assert response.json()["items"][0]["tag_ids"] == [str(tag.id)]
