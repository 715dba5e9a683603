"""Placeholder accounts, made for the people of imported or restored time: the person takes
theirs over by signing up with its email (or an operator creates it for them), and keeps its
memberships and entries. A deactivated account is never taken over."""

import asyncio
import uuid

import pytest
from httpx import AsyncClient
from sqlalchemy import column, insert, select, table
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from typer.testing import CliRunner, Result

from app.cli import cli
from app.db import migrations
from app.db.models import User
from app.db.types import utcnow
from app.enums import ImportFormat, WeekStart
from tests.factories import Team, auth_headers, bearer, make_user, sign_in
from tests.problems import assert_problem
from tests.test_events import read_events
from tests.test_imports import run_import
from tests.tracking import entries_url

REGISTER = "/api/v1/auth/register"
PASSWORD = ("--password", "eves-own-password")
EVE = {"email": "Eve@Example.com", "password": PASSWORD[1], "full_name": "Eve Adams"}
EVES_ROWS = (
    b"User,Email,Project,Description,Billable,Start date,Start time,End date,End time\n"
    b"Eve,eve@example.com,Site,before she joined,No,2024-04-22,09:00,2024-04-22,10:00\n"
)


async def eve_as_placeholder(session: AsyncSession, team: Team) -> None:
    """Eve's time imported into the team's workspace, and Eve a placeholder member of it."""
    report = await run_import(
        session, team.workspace, EVES_ROWS, ImportFormat.TOGGL_CSV, create_missing_members=True
    )
    assert report.created == 1


async def command(database_url: str, *args: str) -> Result:
    """A `timesheet` command run on the suite's database, off the event loop."""
    env = {"DATABASE_URL": database_url, "ENVIRONMENT": "test"}
    return await asyncio.to_thread(CliRunner().invoke, cli, list(args), env=env)


def members_url(team: Team) -> str:
    return f"/api/v1/workspaces/{team.workspace.id}/members"


async def members_by_email(client: AsyncClient, team: Team) -> dict[str, dict[str, object]]:
    response = await client.get(members_url(team), headers=auth_headers(team.owner))
    assert response.status_code == 200, response.text
    return {member["email"]: member for member in response.json()["items"]}


async def test_signing_up_takes_over_the_placeholder_with_its_time(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    await eve_as_placeholder(session, team)
    placeholder = (await members_by_email(client, team))["eve@example.com"]
    assert placeholder["is_placeholder"] is True
    assert placeholder["full_name"] == "eve"
    # Nobody signs in with a placeholder, whatever password is tried.
    assert_problem(await sign_in(client, "eve@example.com"), 401)

    created = await client.post(REGISTER, json=EVE)
    assert created.status_code == 201, created.text
    assert created.json()["id"] == placeholder["user_id"]
    assert created.json()["is_active"] is True

    tokens = (await sign_in(client, "eve@example.com", EVE["password"])).json()
    eves = await client.get(entries_url(team.workspace), headers=bearer(tokens["access_token"]))
    assert [entry["description"] for entry in eves.json()["items"]] == ["before she joined"]
    member = (await members_by_email(client, team))["eve@example.com"]
    assert (member["is_placeholder"], member["full_name"]) == (False, "Eve Adams")

    [claimed] = await read_events(client, team, type="member.claimed")
    assert claimed["subject"] == {"type": "member", "id": placeholder["user_id"]}
    assert claimed["data"]["object"] == {
        "user_id": placeholder["user_id"],
        "email": "eve@example.com",
        "full_name": "Eve Adams",
    }
    # Taken over once: the next sign-up with the email is an account's conflict.
    assert_problem(await client.post(REGISTER, json={**EVE, "password": "someone-else"}), 409)
    assert_problem(await sign_in(client, "eve@example.com", "someone-else"), 401)


async def test_a_deactivated_account_is_not_taken_over(
    client: AsyncClient, session: AsyncSession
) -> None:
    # Deactivation revokes the account's tokens: its generation is past 0.
    await make_user(session, email="gone@example.com", is_active=False, token_generation=1)
    assert_problem(await client.post(REGISTER, json={**EVE, "email": "gone@example.com"}), 409)
    assert_problem(await sign_in(client, "gone@example.com", EVE["password"]), 401)


@pytest.mark.committed
async def test_of_two_sign_ups_at_once_one_takes_the_placeholder_over(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    await eve_as_placeholder(session, team)
    await session.commit()
    passwords = [f"eves-password-{n}" for n in range(4)]
    answers = await asyncio.gather(
        *(client.post(REGISTER, json={**EVE, "password": password}) for password in passwords)
    )
    assert sorted(answer.status_code for answer in answers) == [201, 409, 409, 409]
    [winner] = [
        p for p, answer in zip(passwords, answers, strict=True) if answer.status_code == 201
    ]
    assert (await sign_in(client, "eve@example.com", winner)).status_code == 200
    assert len(await read_events(client, team, type="member.claimed")) == 1


@pytest.mark.committed
async def test_the_create_command_activates_a_placeholder(
    client: AsyncClient, session: AsyncSession, team: Team, database_url: str
) -> None:
    await eve_as_placeholder(session, team)
    await session.commit()
    result = await command(
        database_url,
        "users",
        "create",
        "--email",
        "EVE@example.com",
        "--full-name",
        "Eve Adams",
        *PASSWORD,
    )
    assert result.exit_code == 0, result.output
    assert "Activated the placeholder account eve@example.com" in result.output
    assert (await sign_in(client, "eve@example.com", EVE["password"])).status_code == 200
    member = (await members_by_email(client, team))["eve@example.com"]
    assert (member["is_placeholder"], member["full_name"]) == (False, "Eve Adams")


@pytest.mark.committed
async def test_a_placeholder_deactivated_by_an_operator_cannot_be_taken_over(
    client: AsyncClient, session: AsyncSession, team: Team, database_url: str
) -> None:
    await eve_as_placeholder(session, team)
    await session.commit()
    result = await command(database_url, "users", "deactivate", "--email", "eve@example.com")
    assert result.exit_code == 0, result.output
    assert_problem(await client.post(REGISTER, json=EVE), 409)
    assert (await members_by_email(client, team))["eve@example.com"]["is_placeholder"] is False


@pytest.mark.committed
async def test_the_migration_marks_the_placeholders_made_before_it(
    database_url: str, engine: AsyncEngine
) -> None:
    """Inactive accounts whose tokens were never revoked were made as placeholders;
    deactivation always revokes them."""
    await migrations.downgrade(database_url, "0e7ce1b2ee3c")
    users = User.__table__
    # The table as that revision had it: without the column the migration adds.
    before = table(
        users.name, *(column(c.name, c.type) for c in users.c if c.name != "is_placeholder")
    )
    try:
        async with engine.begin() as connection:
            for email, active, generation in (
                ("placeholder@example.com", False, 0),
                ("deactivated@example.com", False, 1),
                ("active@example.com", True, 0),
            ):
                now = utcnow()
                await connection.execute(
                    insert(before).values(
                        id=uuid.uuid4(),
                        email=email,
                        full_name="X",
                        password_hash="x",
                        is_active=active,
                        timezone="UTC",
                        week_start=WeekStart.MONDAY,
                        token_generation=generation,
                        version=1,
                        created_at=now,
                        updated_at=now,
                    )
                )
    finally:
        await migrations.upgrade(database_url)
    async with engine.connect() as connection:
        rows = await connection.execute(select(User.email).where(User.is_placeholder))
        assert rows.scalars().all() == ["placeholder@example.com"]
