"""Registration, sign-in, refresh-token rotation, sign-out and the limit on failed sign-ins."""

import asyncio
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from typing import Literal

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app import security
from app.config import Environment, Settings
from app.db.models import AttemptCounter, RefreshToken, User
from app.db.types import utcnow
from app.enums import AttemptKind
from app.repositories import attempt_counters
from app.security import token_digest, verify_password
from app.services import accounts
from tests.factories import DEFAULT_PASSWORD, Team, attempts_of, bearer, make_user, sign_in
from tests.problems import assert_problem

REGISTER = "/api/v1/auth/register"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/users/me"
# Concurrent attempts in the race tests: well past every limit they meet.
RACERS = 40


async def refresh_row(session: AsyncSession, secret: str) -> RefreshToken:
    statement = select(RefreshToken).where(RefreshToken.token_hash == token_digest(secret))
    row = (await session.scalars(statement.execution_options(populate_existing=True))).one()
    return row


async def window_start(session: AsyncSession, kind: AttemptKind, subject: str) -> datetime:
    statement = select(AttemptCounter.window_started_at).where(
        AttemptCounter.kind == kind, AttemptCounter.subject == subject
    )
    return (await session.scalars(statement.execution_options(populate_existing=True))).one()


def statuses(answers: list[Response]) -> list[int]:
    return sorted(answer.status_code for answer in answers)


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


async def test_registrations_are_limited_per_address(
    app: FastAPI, client: AsyncClient, session: AsyncSession, settings: Settings, team: Team
) -> None:
    app.state.settings = settings.model_copy(update={"registration_max_per_address": 2})
    body = {"email": "first@example.com", "password": "a-long-password", "full_name": "F"}
    assert (await client.post(REGISTER, json=body)).status_code == 201
    # An attempt counts whether or not an account comes of it.
    assert_problem(await client.post(REGISTER, json={**body, "email": team.member.email}), 409)
    refused = await client.post(REGISTER, json={**body, "email": "third@example.com"})
    assert_problem(refused, 429)
    retry_after = int(refused.headers["retry-after"])
    assert 0 < retry_after <= settings.registration_window_seconds
    assert await session.scalar(select(User).where(User.email == "third@example.com")) is None


@pytest.mark.committed
async def test_parallel_registrations_stop_exactly_at_the_limit(
    client: AsyncClient, settings: Settings
) -> None:
    answers = await asyncio.gather(
        *(
            client.post(
                REGISTER,
                json={
                    "email": f"racer{n}@example.com",
                    "password": "long-enough",
                    "full_name": "R",
                },
            )
            for n in range(RACERS)
        )
    )
    limit = settings.registration_max_per_address
    assert statuses(answers) == [201] * limit + [429] * (RACERS - limit)


async def test_passwords_are_hashed_and_verified_off_the_event_loop(
    client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hashing takes tens of milliseconds of CPU: on the loop, it would stall every request."""
    hasher = security.PasswordHasher()
    threads: list[int] = []

    class Recording(security.PasswordHasher):
        def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
            threads.append(threading.get_ident())
            return hasher.hash(password, salt=salt)

        def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
            threads.append(threading.get_ident())
            return hasher.verify(hash, password)

    monkeypatch.setattr(security, "_hasher", Recording())
    body = {"email": "threads@example.com", "password": "a-long-password", "full_name": "T"}
    assert (await client.post(REGISTER, json=body)).status_code == 201
    assert (await sign_in(client, body["email"], body["password"])).status_code == 200
    assert_problem(await sign_in(client, "nobody@example.com"), 401)
    assert len(threads) >= 3
    assert threading.get_ident() not in threads


def test_importing_the_security_module_hashes_nothing() -> None:
    """A hash costs 64 MiB and tens of milliseconds: every process that imports the app (the
    CLI, each worker) would pay for one it may never use."""
    probe = (
        "import argon2\n"
        "def refuse(*args, **kwargs):\n"
        "    raise SystemExit('hashed at import')\n"
        "argon2.PasswordHasher.hash = refuse\n"
        "import app.security\n"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", probe], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


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

    async def spy(password_hash: str | None, password: str) -> bool:
        checked.append(password_hash)
        return await verify_password(password_hash, password)

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
    assert await verify_password(user.password_hash, DEFAULT_PASSWORD)


async def test_the_form_needs_username_and_password(client: AsyncClient) -> None:
    response = await client.post("/api/v1/auth/token", data={"username": "a@example.com"})
    assert response.status_code == 422


# Limit on failed sign-ins


async def test_failures_are_counted_and_then_refused_before_the_password_is_checked(
    client: AsyncClient,
    session: AsyncSession,
    team: Team,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    email = team.member.email
    for _ in range(settings.login_max_failures):
        assert_problem(await sign_in(client, email, "wrong-password"), 401)
    assert await attempts_of(session, AttemptKind.SIGN_IN_ACCOUNT, email) == (
        settings.login_max_failures
    )
    started = await window_start(session, AttemptKind.SIGN_IN_ACCOUNT, email)

    checked: list[str | None] = []

    async def spy(password_hash: str | None, password: str) -> bool:
        checked.append(password_hash)
        return await verify_password(password_hash, password)

    monkeypatch.setattr(accounts, "verify_password", spy)
    refused = await sign_in(client, email)
    assert_problem(refused, 429)
    retry_after = int(refused.headers["retry-after"])
    assert 0 < retry_after <= settings.login_failure_window_seconds
    assert checked == []
    # A refused attempt does not move the window, or waiting would never help.
    assert await window_start(session, AttemptKind.SIGN_IN_ACCOUNT, email) == started


async def test_retry_after_is_when_the_counting_window_ends(
    client: AsyncClient,
    session: AsyncSession,
    team: Team,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    email = team.member.email
    window = settings.login_failure_window_seconds
    now = utcnow()
    monkeypatch.setattr(attempt_counters, "utcnow", lambda: now)
    session.add(
        AttemptCounter(
            kind=AttemptKind.SIGN_IN_ACCOUNT,
            subject=email,
            attempts=settings.login_max_failures,
            window_started_at=now - timedelta(seconds=window - 100),
        )
    )
    await session.flush()
    refused = await sign_in(client, email)
    assert_problem(refused, 429)
    assert refused.headers["retry-after"] == "100"


async def test_windows_that_ended_start_over_and_are_forgotten(
    client: AsyncClient, session: AsyncSession, team: Team, settings: Settings
) -> None:
    email, other = team.member.email, team.admin.email
    ended = utcnow() - timedelta(seconds=settings.login_failure_window_seconds + 60)
    limit = settings.login_max_failures
    session.add_all(
        [
            AttemptCounter(
                kind=AttemptKind.SIGN_IN_ACCOUNT,
                subject=subject,
                attempts=limit,
                window_started_at=ended,
            )
            for subject in (email, other)
        ]
        + [
            AttemptCounter(
                kind=AttemptKind.REGISTRATION,
                subject="10.9.9.9",
                attempts=1,
                window_started_at=ended,
            )
        ]
    )
    await session.flush()
    assert_problem(await sign_in(client, email, "wrong-password"), 401)
    rows = (await session.execute(select(AttemptCounter.kind, AttemptCounter.subject))).all()
    # The member's count started over at one; the other account's ended window is gone, and
    # counters of another kind are left to their own limit.
    assert await attempts_of(session, AttemptKind.SIGN_IN_ACCOUNT, email) == 1
    assert sorted((row.kind, row.subject) for row in rows) == sorted(
        [
            (AttemptKind.SIGN_IN_ACCOUNT, email),
            (AttemptKind.SIGN_IN_ADDRESS, "127.0.0.1"),
            (AttemptKind.REGISTRATION, "10.9.9.9"),
        ]
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


async def test_successes_do_not_count_against_the_address(
    app: FastAPI, client: AsyncClient, team: Team, settings: Settings
) -> None:
    """People behind one address (an office's NAT) signing in do not lock each other out."""
    app.state.settings = settings.model_copy(update={"login_max_failures": 1})
    for _ in range(accounts.ADDRESS_FACTOR + 1):
        assert (await sign_in(client, team.member.email)).status_code == 200
    assert (await sign_in(client, team.admin.email)).status_code == 200


@pytest.mark.committed
async def test_failures_survive_in_their_own_transactions(
    client: AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(session)
    await session.commit()
    for _ in range(settings.login_max_failures):
        assert_problem(await sign_in(client, user.email, "wrong-password"), 401)
    counted = await attempts_of(session, AttemptKind.SIGN_IN_ACCOUNT, user.email)
    assert counted == settings.login_max_failures
    await session.commit()  # so that SQLite's write lock is free for the next request
    assert_problem(await sign_in(client, user.email), 429)


@pytest.mark.committed
async def test_parallel_wrong_passwords_reach_the_check_exactly_the_limit_times(
    client: AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(session)
    await session.commit()
    answers = await asyncio.gather(
        *(sign_in(client, user.email, f"wrong-password-{n}") for n in range(RACERS))
    )
    limit = settings.login_max_failures
    assert statuses(answers) == [401] * limit + [429] * (RACERS - limit)
    for answer in answers:
        assert_problem(answer, answer.status_code)
    # Only the passwords actually tried count against the address.
    assert await attempts_of(session, AttemptKind.SIGN_IN_ADDRESS, "127.0.0.1") == limit


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
