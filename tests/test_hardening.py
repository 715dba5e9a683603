"""HTTP hardening: request body limits, undecodable bodies, and the headers every response
carries (nosniff, no-store where private, a Content-Security-Policy on the docs pages)."""

import re
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from app.api import docs
from tests.factories import DEFAULT_PASSWORD, Team, auth_headers, sign_in
from tests.problems import assert_problem

REGISTER = "/api/v1/auth/register"
JSON = {"content-type": "application/json"}


def _limit_bodies_to(app: FastAPI, size: int) -> None:
    app.state.settings = app.state.settings.model_copy(update={"request_max_bytes": size})


async def _chunks(size: int, chunk: int = 64 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, size, chunk):
        yield b" " * min(chunk, size - start)


async def test_a_body_beyond_the_limit_is_413_before_it_is_read(client: AsyncClient) -> None:
    body = b'{"email": "' + b"a" * 50 * 1024 * 1024 + b'@example.com"}'
    response = await client.post(REGISTER, content=body, headers=JSON)
    assert_problem(response, 413)
    assert str(1024 * 1024) in response.json()["detail"]


async def test_a_chunked_body_is_counted_as_it_arrives(client: AsyncClient) -> None:
    response = await client.post(REGISTER, content=_chunks(2 * 1024 * 1024), headers=JSON)
    assert "content-length" not in response.request.headers
    assert_problem(response, 413)


async def test_the_body_limit_is_a_setting(app: FastAPI, client: AsyncClient) -> None:
    _limit_bodies_to(app, 200)
    body = {"email": "someone@example.com", "password": "x" * 150, "full_name": "Someone"}
    assert_problem(await client.post(REGISTER, json=body), 413)
    assert_problem(await client.post(REGISTER, content=_chunks(300), headers=JSON), 413)
    small = await client.post(REGISTER, json={**body, "password": DEFAULT_PASSWORD})
    assert small.status_code == 201, small.text


async def test_uploads_keep_their_own_larger_limit(
    app: FastAPI, client: AsyncClient, team: Team
) -> None:
    _limit_bodies_to(app, 200)
    content = b"Email,Start date,Start time,Duration\n" + b"x@example.com,,,\n" * 100
    response = await client.post(
        f"/api/v1/workspaces/{team.workspace.id}/imports",
        files={"file": ("export.csv", content, "text/csv")},
        data={"format": "toggl_csv", "dry_run": "true"},
        headers=auth_headers(team.admin),
    )
    assert response.status_code == 202, response.text


async def test_undecodable_bodies_are_422(client: AsyncClient, team: Team) -> None:
    url = f"/api/v1/workspaces/{team.workspace.id}/tags"
    headers = {**auth_headers(team.admin), **JSON}
    bodies: list[Any] = [b"\xff\xfe{}", b"[" * 100_000 + b"]" * 100_000, b"{not json", b'{"name"']
    for body in bodies:
        assert_problem(await client.post(url, content=body, headers=headers), 422)
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
        response = await client.post(
            url, content=b'{"name": "x"}', headers={**headers, "content-type": content_type}
        )
        assert_problem(response, 422)


async def test_every_response_says_nosniff(client: AsyncClient, team: Team) -> None:
    responses = [
        await client.get("/livez"),
        await client.get("/docs"),
        await client.get("/api/v1/users/me", headers=auth_headers(team.member)),
        await client.get("/api/v1/users/me"),
        await client.get("/api/v1/no-such-path"),
        await client.post(REGISTER, content=b"x" * 2 * 1024 * 1024, headers=JSON),
    ]
    for response in responses:
        assert response.headers["x-content-type-options"] == "nosniff", response.url


async def test_private_responses_are_not_stored(client: AsyncClient, team: Team) -> None:
    signed_in = await sign_in(client, team.member.email)
    refused = await sign_in(client, team.member.email, "wrong password")
    tokens = signed_in.json()
    private = [
        signed_in,
        refused,
        await client.post("/api/v1/auth/refresh", json={"refresh_token": "nothing"}),
        await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}),
        await client.get("/api/v1/users/me", headers=auth_headers(team.member)),
        await client.get("/api/v1/workspaces", headers=auth_headers(team.member)),
        await client.get("/api/v1/users/me", headers={"Authorization": "Bearer wrong"}),
    ]
    for response in private:
        assert response.headers["cache-control"] == "no-store", response.url
    assert "cache-control" not in (await client.get("/livez")).headers


async def test_the_docs_pages_keep_every_request_on_this_origin(client: AsyncClient) -> None:
    for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        response = await client.get(path)
        assert response.status_code == 200
        policy = response.headers["content-security-policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        assert directives["default-src"] == "'self'"
        assert "http" not in policy and "*" not in policy
        for source in ("script-src", "style-src", "img-src", "connect-src", "font-src"):
            assert directives[source].startswith("'self'"), source
        assert "://" not in re.sub(r'xmlns="[^"]*"', "", response.text), path
    assert "content-security-policy" not in (await client.get("/livez")).headers


async def test_redoc_loads_nothing_from_another_host(client: AsyncClient) -> None:
    page = await client.get("/redoc")
    scripts = re.findall(r'<script src="([^"]+)"', page.text)
    assert scripts == [docs.REDOC_BUNDLE_URL]
    bundle = await client.get(scripts[0])
    assert bundle.status_code == 200
    assert bundle.headers["content-type"].startswith("text/javascript")
    # The one address the bundle would load on its own: the footer's logo.
    assert docs.REMOTE_LOGO not in bundle.text
    assert not re.search(r'src:\s*"https?://', bundle.text)
    assert f'src:"{docs.FAVICON_URL}"' in bundle.text
    assert (await client.get(docs.FAVICON_URL)).status_code == 200


async def test_swagger_ui_asks_no_online_validator(client: AsyncClient) -> None:
    page = await client.get("/docs")
    assert '"validatorUrl": null' in page.text
