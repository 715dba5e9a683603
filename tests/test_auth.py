"""Registration, sign-in, refresh-token rotation, sign-out and the limit on failed sign-ins."""

import asyncio
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Environment, Settings
from app.db.models import LoginAttempt, RefreshToken, User
from app.db.types import utcnow
from app.security import token_digest, verify_password
from app.services import accounts
from tests.factories import DEFAULT_PASSWORD, Team, bearer, make_user, sign_in
from tests.problems import assert_problem

REGISTER = "/api/v1/auth/register"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/users/me"


async def refresh_row(session: AsyncSession, secret: str) -> RefreshToken:
    statement = select(RefreshToken).where(RefreshToken.token_hash == token_digest(secret))
    row = (await session.scalars(statement.execution_options(populate_existing=True))).one()
    return row


async def failures_of(session: AsyncSession, email: str) -> int:
    statement = select(func.count()).where(
        LoginAttempt.email == email, LoginAttempt.succeeded.is_(False)
    )
    return (await session.execute(statement)).scalar_one()


# Registration


async def test_register_then_sign_in(client: AsyncClient) -> None:
    body = {"email": "New.Person@Example.com", "password": "a-long-password", "full_name": "N P"}
    created = await client.post(REGISTER, json=body)
    assert created.status_code == 201
    user = created.json()
    assert user["email"] == "new.person@example.com" and user["full_name"] == "N P"
    assert "password" not in created.text and "password_hash" not in user
    assert created.headers["etag"] == f'"{user["version"]}"'

    assert (await sign_in(client, "new.person@example.com", "a-long-password")).status_code == 200
    again = await client.post(REGISTER, json={**body, "email": "NEW.PERSON@example.com"})
    assert_problem(again, 409)


async def test_register_refuses_fields_the_caller_may_not_set(
    client: AsyncClient, session: AsyncSession
) -> None:
    body = {"email": "eve@example.com", "password": "a-long-password", "full_name": "Eve"}
    for field, value in [("is_superuser", True), ("is_active", True), ("token_generation", 9)]:
        response = await client.post(REGISTER, json={**body, field: value})
        assert response.status_code == 422
        assert response.json()["errors"][0]["loc"] == ["body", field]
    assert await session.scalar(select(User).where(User.email == "eve@example.com")) is None


async def test_register_is_403_when_disabled(
    app: FastAPI, client: AsyncClient, settings: Settings
) -> None:
    app.state.settings = settings.model_copy(update={"registration_enabled": False})
    body = {"email": "late@example.com", "password": "a-long-password", "full_name": "Late"}
    assert_problem(await client.post(REGISTER, json=body), 403)
    assert_problem(await client.post(REGISTER, json={}), 403)


async def test_register_validates_the_body(client: AsyncClient) -> None:
    short = {"email": "a@example.com", "password": "short", "full_name": "A"}
    assert (await client.post(REGISTER, json=short)).status_code == 422
    bad_email = {"email": "nope", "password": "a-long-password", "full_name": "A"}
    assert (await client.post(REGISTER, json=bad_email)).status_code == 422


# Sign-in


async def test_sign_in_end_to_end(client: AsyncClient, team: Team, settings: Settings) -> None:
    response = await sign_in(client, team.member.email.upper())
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == settings.access_token_ttl_seconds
    assert body["refresh_token"].startswith("tsr_")
    assert response.headers["cache-control"] == "no-store"

    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"refresh_token={body['refresh_token']};")
    assert "HttpOnly" in cookie and "Path=/api/v1/auth" in cookie
    assert "SameSite=strict" in cookie and "Secure" not in cookie

    me = await client.get(ME, headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["id"] == str(team.member.id)


async def test_refresh_cookie_is_secure_in_production(
    app: FastAPI, client: AsyncClient, team: Team, settings: Settings
) -> None:
    app.state.settings = settings.model_copy(update={"environment": Environment.PRODUCTION})
    response = await sign_in(client, team.member.email)
    assert "Secure" in response.headers["set-cookie"]


async def test_unknown_email_wrong_password_and_inactive_user_fail_alike(
    client: AsyncClient, session: AsyncSession
) -> None:
    inactive = await make_user(session, is_active=False)
    active = await make_user(session)
    answers = [
        await sign_in(client, "nobody@example.com"),
        await sign_in(client, active.email, "not-the-password"),
        await sign_in(client, inactive.email),
    ]
    for response in answers:
        assert_problem(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"
    assert len({response.json()["detail"] for response in answers}) == 1


async def test_unknown_email_costs_a_password_verification_too(
    client: AsyncClient, team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str | None] = []

    def spy(password_hash: str | None, password: str) -> bool:
        checked.append(password_hash)
        return verify_password(password_hash, password)

    monkeypatch.setattr(accounts, "verify_password", spy)
    assert_problem(await sign_in(client, "nobody@example.com"), 401)
    assert_problem(await sign_in(client, team.member.email, "wrong-password"), 401)
    assert checked == [None, team.member.password_hash]


async def test_sign_in_upgrades_an_outdated_password_hash(
    client: AsyncClient, session: AsyncSession
) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(DEFAULT_PASSWORD)
    user = await make_user(session, password_hash=weak)
    assert (await sign_in(client, user.email)).status_code == 200
    await session.refresh(user)
    assert user.password_hash != weak
    assert verify_password(user.password_hash, DEFAULT_PASSWORD)


async def test_the_form_needs_username_and_password(client: AsyncClient) -> None:
    response = await client.post("/api/v1/auth/token", data={"username": "a@example.com"})
    assert response.status_code == 422


# Limit on failed sign-ins


async def test_failures_are_counted_and_then_refused_before_the_password_is_checked(
    client: AsyncClient, session: AsyncSession, team: Team, settings: Settings
) -> None:
    email = team.member.email
    for _ in range(settings.login_max_failures):
        assert_problem(await sign_in(client, email, "wrong-password"), 401)
    assert await failures_of(session, email) == settings.login_max_failures

    refused = await sign_in(client, email)
    assert_problem(refused, 429)
    retry_after = int(refused.headers["retry-after"])
    assert 0 < retry_after <= settings.login_failure_window_seconds
    # A refused attempt is not another failure, or waiting would never help.
    assert await failures_of(session, email) == settings.login_max_failures


async def test_retry_after_is_when_the_oldest_counted_failure_leaves_the_window(
    client: AsyncClient, session: AsyncSession, team: Team, settings: Settings
) -> None:
    email = team.member.email
    window = settings.login_failure_window_seconds
    now = utcnow()
    session.add_all(
        [
            LoginAttempt(
                email=email,
                client_ip="10.0.0.1",
                succeeded=False,
                created_at=now - timedelta(seconds=window - 100 - 10 * n),
            )
            for n in range(settings.login_max_failures)
        ]
        + [
            LoginAttempt(
                email=email,
                client_ip="10.0.0.1",
                succeeded=False,
                created_at=now - timedelta(seconds=window + 5),
            )
        ]
    )
    await session.flush()
    refused = await sign_in(client, email)
    assert_problem(refused, 429)
    assert 98 <= int(refused.headers["retry-after"]) <= 101


async def test_attempts_that_left_the_window_are_forgotten(
    client: AsyncClient, session: AsyncSession, team: Team, settings: Settings
) -> None:
    email, other = team.member.email, team.admin.email
    old = utcnow() - timedelta(seconds=settings.login_failure_window_seconds + 60)
    session.add_all(
        [
            LoginAttempt(email=email, client_ip="10.9.9.9", succeeded=False, created_at=old),
            LoginAttempt(email=other, client_ip="10.9.9.9", succeeded=False, created_at=old),
        ]
    )
    await session.flush()
    assert_problem(await sign_in(client, email, "wrong-password"), 401)
    rows = (await session.execute(select(LoginAttempt.email, LoginAttempt.created_at))).all()
    # The member's expired attempt is gone, the new one counts; another account at another
    # address is left alone.
    assert sorted((row.email, row.created_at > old) for row in rows) == sorted(
        [(email, True), (other, False)]
    )


async def test_a_success_clears_the_account_count(
    client: AsyncClient, team: Team, settings: Settings
) -> None:
    email = team.member.email
    for _ in range(settings.login_max_failures - 1):
        assert_problem(await sign_in(client, email, "wrong-password"), 401)
    assert (await sign_in(client, email)).status_code == 200
    for _ in range(settings.login_max_failures - 1):
        assert_problem(await sign_in(client, email, "wrong-password"), 401)
    assert (await sign_in(client, email)).status_code == 200


async def test_one_address_is_limited_across_accounts(
    app: FastAPI, client: AsyncClient, team: Team, settings: Settings
) -> None:
    app.state.settings = settings.model_copy(update={"login_max_failures": 1})
    for n in range(4):
        assert_problem(await sign_in(client, f"spray{n}@example.com", "guess"), 401)
    # A fresh account, with the right password, from the same address.
    assert_problem(await sign_in(client, team.admin.email), 429)


@pytest.mark.committed
async def test_failures_survive_in_their_own_transactions(
    client: AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(session)
    await session.commit()
    for _ in range(settings.login_max_failures):
        assert_problem(await sign_in(client, user.email, "wrong-password"), 401)
    assert await failures_of(session, user.email) == settings.login_max_failures
    await session.commit()  # so that SQLite's write lock is free for the next request
    assert_problem(await sign_in(client, user.email), 429)


# Refresh tokens


async def test_refresh_rotates_within_the_family(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    first = (await sign_in(client, team.member.email)).json()["refresh_token"]
    response = await client.post(REFRESH, json={"refresh_token": first})
    assert response.status_code == 200
    body = response.json()
    second = body["refresh_token"]
    assert second != first
    assert response.headers["set-cookie"].startswith(f"refresh_token={second};")
    assert (await client.get(ME, headers=bearer(body["access_token"]))).status_code == 200

    old, new = await refresh_row(session, first), await refresh_row(session, second)
    assert old.rotated_at is not None and old.revoked_at is None
    assert new.family_id == old.family_id and new.rotated_from_id == old.id
    assert new.token_hash == token_digest(second) != second


async def test_reusing_a_rotated_token_revokes_the_family(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    first = (await sign_in(client, team.member.email)).json()["refresh_token"]
    second = (await client.post(REFRESH, json={"refresh_token": first})).json()["refresh_token"]

    reused = await client.post(REFRESH, json={"refresh_token": first})
    assert_problem(reused, 401)
    assert 'refresh_token=""' in reused.headers["set-cookie"]
    assert_problem(await client.post(REFRESH, json={"refresh_token": second}), 401)
    family = (await refresh_row(session, first)).family_id
    rows = (
        await session.scalars(
            select(RefreshToken)
            .where(RefreshToken.family_id == family)
            .execution_options(populate_existing=True)
        )
    ).all()
    assert len(rows) == 2 and all(row.revoked_at is not None for row in rows)

    # Other sign-ins of the same user are not affected.
    other = (await sign_in(client, team.member.email)).json()["refresh_token"]
    assert (await client.post(REFRESH, json={"refresh_token": other})).status_code == 200


async def test_refresh_takes_the_cookie_when_the_body_is_empty(
    client: AsyncClient, team: Team
) -> None:
    first = (await sign_in(client, team.member.email)).json()["refresh_token"]
    client.cookies.clear()
    response = await client.post(REFRESH, headers={"Cookie": f"refresh_token={first}"})
    assert response.status_code == 200
    assert response.json()["refresh_token"] != first


async def test_refresh_without_a_token_is_401(client: AsyncClient) -> None:
    assert_problem(await client.post(REFRESH), 401)
    assert_problem(await client.post(REFRESH, json={"refresh_token": "tsr_unknown"}), 401)


async def test_expired_refresh_token_is_refused(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    secret = (await sign_in(client, team.member.email)).json()["refresh_token"]
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.token_hash == token_digest(secret))
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    assert_problem(await client.post(REFRESH, json={"refresh_token": secret}), 401)


async def test_logout_revokes_the_family_and_clears_the_cookie(
    client: AsyncClient, team: Team
) -> None:
    first = (await sign_in(client, team.member.email)).json()["refresh_token"]
    second = (await client.post(REFRESH, json={"refresh_token": first})).json()["refresh_token"]
    response = await client.post(LOGOUT, json={"refresh_token": second})
    assert response.status_code == 204
    cookie = response.headers["set-cookie"]
    assert 'refresh_token=""' in cookie and "Path=/api/v1/auth" in cookie
    assert_problem(await client.post(REFRESH, json={"refresh_token": second}), 401)
    # Signing out twice, or with nothing, still succeeds.
    assert (await client.post(LOGOUT, json={"refresh_token": second})).status_code == 204
    assert (await client.post(LOGOUT)).status_code == 204


async def test_refresh_body_refuses_unknown_fields(client: AsyncClient) -> None:
    response = await client.post(REFRESH, json={"refresh_token": "x", "user_id": "y"})
    assert response.status_code == 422


@pytest.mark.committed
async def test_concurrent_exchanges_of_one_token_count_as_reuse(
    client: AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session)
    await session.commit()
    secret = (await sign_in(client, user.email)).json()["refresh_token"]
    answers = await asyncio.gather(
        *(client.post(REFRESH, json={"refresh_token": secret}) for _ in range(2))
    )
    assert sorted(answer.status_code for answer in answers) == [200, 401]
    (winner,) = [answer for answer in answers if answer.status_code == 200]
    successor = winner.json()["refresh_token"]
    assert_problem(await client.post(REFRESH, json={"refresh_token": successor}), 401)
