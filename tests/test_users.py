"""The caller's account: profile, password change, and the tokens that must stop working."""

import asyncio
import uuid
from datetime import timedelta

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from app.cli import cli
from app.config import Settings
from app.db.models import ApiToken, RefreshToken
from app.db.types import utcnow
from app.security import create_access_token, token_digest, verify_password
from tests.factories import (
    DEFAULT_PASSWORD,
    TEST_SECRET_KEY,
    auth_headers,
    bearer,
    make_user,
    sign_in,
)
from tests.problems import assert_problem

ME = "/api/v1/users/me"
PASSWORD = "/api/v1/users/me/password"
TOKENS = "/api/v1/users/me/tokens"
REFRESH = "/api/v1/auth/refresh"
REGISTER = "/api/v1/auth/register"
NEW_PASSWORD = "a-brand-new-password"
# Concurrent attempts in the race test: well past the limit.
RACERS = 40


async def test_get_and_update_me(client: AsyncClient, session: AsyncSession) -> None:
    user = await make_user(session, full_name="Ada")
    headers = auth_headers(user)
    me = await client.get(ME, headers=headers)
    assert me.status_code == 200
    assert me.json()["full_name"] == "Ada" and me.json()["timezone"] == "UTC"
    assert me.headers["etag"] == '"1"'
    assert "password_hash" not in me.json() and "token_generation" not in me.json()

    changes = {"full_name": "Ada L.", "timezone": "Europe/Berlin", "week_start": "sunday"}
    updated = await client.patch(ME, json=changes, headers={**headers, "If-Match": '"1"'})
    assert updated.status_code == 200
    assert {key: updated.json()[key] for key in changes} == changes
    assert updated.headers["etag"] == '"2"'
    stale = await client.patch(ME, json={"full_name": "X"}, headers={**headers, "If-Match": '"1"'})
    assert_problem(stale, 412)


@pytest.mark.parametrize(
    "body",
    [
        {"timezone": "Mars/Olympus"},
        {"week_start": "friday"},
        {"full_name": ""},
        {"full_name": None},
        {"email": "new@example.com"},
        {"is_superuser": True},
        {"is_active": False},
        {"token_generation": 0},
        {"id": "00000000-0000-0000-0000-000000000000"},
    ],
)
async def test_update_me_refuses_bad_and_forbidden_fields(
    client: AsyncClient, session: AsyncSession, body: dict[str, object]
) -> None:
    user = await make_user(session)
    before = (user.email, user.full_name, user.is_active, user.version)
    response = await client.patch(ME, json=body, headers=auth_headers(user))
    assert_problem(response, 422)
    await session.refresh(user)
    assert (user.email, user.full_name, user.is_active, user.version) == before


async def test_anonymous_and_bad_access_tokens_are_401(
    client: AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session)
    expired = create_access_token(
        user.id, user.token_generation, secret_key=TEST_SECRET_KEY, ttl_seconds=-1
    )
    forged = create_access_token(
        user.id,
        user.token_generation,
        secret_key="another-secret-key-entirely-32-bytes+",
        ttl_seconds=60,
    )
    assert_problem(await client.get(ME), 401)
    for token in (expired, forged, "not-a-jwt"):
        response = await client.get(ME, headers=bearer(token))
        assert_problem(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"


# Password change


async def test_password_change_ends_every_session(
    client: AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session)
    tokens = (await sign_in(client, user.email)).json()
    headers = bearer(tokens["access_token"])
    body = {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}

    response = await client.post(PASSWORD, json=body, headers=headers)
    assert response.status_code == 204
    assert_problem(await client.get(ME, headers=headers), 401)
    assert_problem(await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]}), 401)
    rows = (
        await session.scalars(select(RefreshToken).where(RefreshToken.user_id == user.id))
    ).all()
    assert rows and all(row.revoked_at is not None for row in rows)

    assert_problem(await sign_in(client, user.email), 401)
    signed_in = await sign_in(client, user.email, NEW_PASSWORD)
    assert signed_in.status_code == 200
    me = await client.get(ME, headers=bearer(signed_in.json()["access_token"]))
    assert me.status_code == 200


async def test_wrong_current_password_is_403_and_counts_as_a_failed_sign_in(
    client: AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(session)
    headers = auth_headers(user)
    wrong = {"current_password": "not-the-password", "new_password": NEW_PASSWORD}
    for _ in range(settings.login_max_failures):
        assert_problem(await client.post(PASSWORD, json=wrong, headers=headers), 403)
    right = {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}
    assert_problem(await client.post(PASSWORD, json=right, headers=headers), 429)
    assert_problem(await sign_in(client, user.email), 429)
    await session.refresh(user)
    assert await verify_password(user.password_hash, DEFAULT_PASSWORD)


async def test_password_change_revokes_api_tokens(
    client: AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session)
    headers = auth_headers(user)
    created = await client.post(TOKENS, json={"name": "script"}, headers=headers)
    api_token = created.json()["token"]
    body = {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}
    assert (await client.post(PASSWORD, json=body, headers=headers)).status_code == 204
    assert_problem(await client.get(ME, headers=bearer(api_token)), 401)
    row = (await session.scalars(select(ApiToken).where(ApiToken.user_id == user.id))).one()
    await session.refresh(row)
    assert row.revoked_at is not None


async def test_passwords_are_taken_exactly_as_typed(
    client: AsyncClient, session: AsyncSession
) -> None:
    padded = "  spaced out password  "
    body = {"email": "spaces@example.com", "password": padded, "full_name": "S"}
    assert (await client.post(REGISTER, json=body)).status_code == 201
    assert_problem(await sign_in(client, "spaces@example.com", padded.strip()), 401)
    signed_in = await sign_in(client, "spaces@example.com", padded)
    assert signed_in.status_code == 200

    headers = bearer(signed_in.json()["access_token"])
    change = {"current_password": padded, "new_password": f" {NEW_PASSWORD} "}
    assert (await client.post(PASSWORD, json=change, headers=headers)).status_code == 204
    assert_problem(await sign_in(client, "spaces@example.com", NEW_PASSWORD), 401)
    assert (await sign_in(client, "spaces@example.com", f" {NEW_PASSWORD} ")).status_code == 200


@pytest.mark.committed
async def test_parallel_wrong_current_passwords_reach_the_check_exactly_the_limit_times(
    client: AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(session)
    await session.commit()
    headers = auth_headers(user)
    wrong = {"current_password": "not-the-password", "new_password": NEW_PASSWORD}
    answers = await asyncio.gather(
        *(client.post(PASSWORD, json=wrong, headers=headers) for _ in range(RACERS))
    )
    limit = settings.login_max_failures
    assert sorted(answer.status_code for answer in answers) == [403] * limit + [429] * (
        RACERS - limit
    )
    for answer in answers:
        assert_problem(answer, answer.status_code)


async def test_new_password_is_validated(client: AsyncClient, session: AsyncSession) -> None:
    user = await make_user(session)
    body = {"current_password": DEFAULT_PASSWORD, "new_password": "short"}
    assert_problem(await client.post(PASSWORD, json=body, headers=auth_headers(user)), 422)


# Deactivation


runner = CliRunner()


@pytest.mark.committed
async def test_deactivate_command_refuses_every_token(
    client: AsyncClient, session: AsyncSession, database_url: str
) -> None:
    user = await make_user(session)
    await session.commit()
    tokens = (await sign_in(client, user.email)).json()
    created = await client.post(TOKENS, json={"name": "ci"}, headers=bearer(tokens["access_token"]))
    api_token = created.json()["token"]
    assert (await client.get(ME, headers=bearer(api_token))).status_code == 200

    result = await asyncio.to_thread(
        runner.invoke,
        cli,
        ["users", "deactivate", "--email", user.email.upper()],
        env={"DATABASE_URL": database_url, "ENVIRONMENT": "test"},
    )
    assert result.exit_code == 0, result.output
    assert "Deactivated" in result.output

    assert_problem(await client.get(ME, headers=bearer(tokens["access_token"])), 401)
    assert_problem(await client.get(ME, headers=bearer(api_token)), 401)
    assert_problem(await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]}), 401)
    assert_problem(await sign_in(client, user.email), 401)


@pytest.mark.committed
def test_deactivate_command_reports_an_unknown_email(database_url: str) -> None:
    result = runner.invoke(
        cli,
        ["users", "deactivate", "--email", "nobody@example.com"],
        env={"DATABASE_URL": database_url, "ENVIRONMENT": "test"},
    )
    assert result.exit_code == 1
    assert "No user" in result.output


# Personal API tokens


async def test_api_token_lifecycle(client: AsyncClient, session: AsyncSession) -> None:
    user = await make_user(session)
    headers = auth_headers(user)
    expires_at = (utcnow() + timedelta(days=30)).isoformat()
    created = await client.post(
        TOKENS, json={"name": "cron", "expires_at": expires_at}, headers=headers
    )
    assert created.status_code == 201
    body = created.json()
    secret = body["token"]
    assert secret.startswith("tsk_") and body["prefix"] == secret[:12]
    assert body["name"] == "cron" and body["last_used_at"] is None
    assert created.headers["cache-control"] == "no-store"

    me = await client.get(ME, headers=bearer(secret))
    assert me.status_code == 200 and me.json()["id"] == str(user.id)

    listed = (await client.get(TOKENS, headers=headers)).json()
    assert [item["id"] for item in listed["items"]] == [body["id"]]
    item = listed["items"][0]
    assert "token" not in item and "token_hash" not in item
    assert item["prefix"] == body["prefix"] and item["last_used_at"] is not None
    assert secret[12:] not in (await client.get(TOKENS, headers=headers)).text

    assert (await client.delete(f"{TOKENS}/{body['id']}", headers=headers)).status_code == 204
    assert_problem(await client.get(ME, headers=bearer(secret)), 401)
    assert (await client.get(TOKENS, headers=headers)).json()["items"] == []
    assert_problem(await client.delete(f"{TOKENS}/{body['id']}", headers=headers), 404)


async def test_an_api_token_cannot_create_api_tokens(
    client: AsyncClient, session: AsyncSession
) -> None:
    """Or a stolen token could mint itself a successor that outlives its revocation."""
    user = await make_user(session)
    created = await client.post(TOKENS, json={"name": "script"}, headers=auth_headers(user))
    api_token = bearer(created.json()["token"])
    assert_problem(await client.post(TOKENS, json={"name": "another"}, headers=api_token), 403)
    owned = await session.scalars(select(ApiToken).where(ApiToken.user_id == user.id))
    assert len(owned.all()) == 1
    # It still lists and revokes them.
    assert (await client.get(TOKENS, headers=api_token)).status_code == 200


async def test_api_tokens_are_stored_as_sha256(client: AsyncClient, session: AsyncSession) -> None:
    user = await make_user(session)
    secret = (await client.post(TOKENS, json={"name": "x"}, headers=auth_headers(user))).json()[
        "token"
    ]
    row = (await session.scalars(select(ApiToken).where(ApiToken.user_id == user.id))).one()
    assert row.token_hash == token_digest(secret) and secret not in row.token_hash


async def test_another_users_token_is_404_and_keeps_working(
    client: AsyncClient, session: AsyncSession
) -> None:
    owner, stranger = await make_user(session), await make_user(session)
    body = (await client.post(TOKENS, json={"name": "mine"}, headers=auth_headers(owner))).json()
    response = await client.delete(f"{TOKENS}/{body['id']}", headers=auth_headers(stranger))
    assert_problem(response, 404)
    assert (await client.get(TOKENS, headers=auth_headers(stranger))).json()["items"] == []
    assert (await client.get(ME, headers=bearer(body["token"]))).status_code == 200


async def test_expired_api_token_is_refused(client: AsyncClient, session: AsyncSession) -> None:
    user = await make_user(session)
    body = (await client.post(TOKENS, json={"name": "x"}, headers=auth_headers(user))).json()
    row = await session.get(ApiToken, uuid.UUID(body["id"]))
    assert row is not None
    row.expires_at = utcnow() - timedelta(seconds=1)
    await session.flush()
    assert_problem(await client.get(ME, headers=bearer(body["token"])), 401)
    # Still listed, so its owner sees that it expired.
    assert (await client.get(TOKENS, headers=auth_headers(user))).json()["items"][0]["id"] == body[
        "id"
    ]


@pytest.mark.parametrize(
    "body",
    [
        {"name": ""},
        {"name": "x" * 101},
        {"name": "x", "expires_at": "2020-01-01T00:00:00Z"},
        {"name": "x", "expires_at": "2999-01-01T00:00:00"},
        {"name": "x", "user_id": "00000000-0000-0000-0000-000000000000"},
        {"name": "x", "token_hash": "0" * 64},
    ],
)
async def test_api_token_body_is_validated(
    client: AsyncClient, session: AsyncSession, body: dict[str, object]
) -> None:
    user = await make_user(session)
    assert_problem(await client.post(TOKENS, json=body, headers=auth_headers(user)), 422)
    assert (await client.get(TOKENS, headers=auth_headers(user))).json()["items"] == []


async def test_api_token_list_pages_newest_first(
    client: AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session)
    headers = auth_headers(user)
    for n in range(3):
        await client.post(TOKENS, json={"name": f"t{n}"}, headers=headers)
    first = (
        await client.get(TOKENS, params={"limit": 2, "include_total": True}, headers=headers)
    ).json()
    assert first["total"] == 3 and [item["name"] for item in first["items"]] == ["t2", "t1"]
    rest = (
        await client.get(
            TOKENS, params={"limit": 2, "cursor": first["next_cursor"]}, headers=headers
        )
    ).json()
    assert [item["name"] for item in rest["items"]] == ["t0"] and rest["next_cursor"] is None
