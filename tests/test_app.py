"""The app skeleton: health checks, problem+json errors, docs and OpenAPI."""

import gc

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text

from app import main
from app.api.deps import SessionDep
from app.api.problems import PROBLEM_CONTENT_TYPE
from app.config import Environment, Settings
from app.db.engine import create_engine
from app.main import create_app
from tests.problems import assert_problem


async def test_livez_and_readyz(client: AsyncClient) -> None:
    assert (await client.get("/livez")).json() == {"status": "ok"}
    response = await client.get("/readyz")
    assert response.status_code == 200


async def test_readyz_is_503_when_the_database_is_unreachable() -> None:
    settings = Settings(
        database_url="postgresql://nobody@127.0.0.1:1/nothing",
        environment=Environment.TEST,
        _env_file=None,
    )
    app = create_app(settings)
    app.state.engine = create_engine(settings)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        response = await client.get("/readyz")
    await app.state.engine.dispose()
    assert_problem(response, 503)
    assert int(response.headers["retry-after"]) > 0


async def test_unknown_route_is_problem_json(client: AsyncClient) -> None:
    response = await client.get("/api/v1/nothing-here")
    assert_problem(response, 404)
    assert response.json()["title"] == "Not Found"
    assert response.json()["type"] == "urn:timesheet:problem:not-found"
    wrong_method = await client.put("/livez")
    assert_problem(wrong_method, 405)
    assert wrong_method.json()["type"] == "urn:timesheet:problem:method-not-allowed"


async def test_unhandled_errors_leak_no_trace(app: FastAPI, client: AsyncClient) -> None:
    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    response = await client.get("/boom")
    assert_problem(response, 500)
    assert "secret" not in response.text and "Traceback" not in response.text
    # Answered beyond every middleware, yet with the same hardening headers.
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"


async def test_openapi_operation_ids_are_unique_tagged_and_free_of_the_tag(
    client: AsyncClient,
) -> None:
    schema = (await client.get("/openapi.json")).json()
    operations = [op for path in schema["paths"].values() for op in path.values()]
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids))
    for operation in operations:
        assert len(operation["tags"]) == 1
        tag = operation["tags"][0].replace("-", "_")
        assert not operation["operationId"].startswith(tag + "_")
    assert "HTTPValidationError" not in schema["components"]["schemas"]


async def test_docs_and_redoc_use_only_local_assets(client: AsyncClient) -> None:
    for page in ("/docs", "/redoc"):
        response = await client.get(page)
        assert response.status_code == 200
        assert "http://" not in response.text and "https://" not in response.text
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"):
        assert (await client.get(f"/static/docs/{asset}")).status_code == 200


async def test_text_the_database_cannot_store_is_422(
    app: FastAPI, client: AsyncClient, is_postgres: bool
) -> None:
    @app.get("/store")
    async def store(session: SessionDep) -> None:
        await session.execute(text("SELECT CAST(:value AS text)"), {"value": "a\x00b"})

    response = await client.get("/store")
    if is_postgres:
        assert response.status_code == 422
        assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
    else:
        assert response.status_code == 200


async def test_cors_allows_only_configured_origins(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"cors_origins": ["https://app.example"]}))
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        preflight = {"Access-Control-Request-Method": "PATCH"}
        allowed = await client.options(
            "/api/v1/users/me", headers={"Origin": "https://app.example", **preflight}
        )
        refused = await client.options(
            "/api/v1/users/me", headers={"Origin": "https://evil.example", **preflight}
        )
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    assert "access-control-allow-origin" not in refused.headers


def test_the_served_app_freezes_what_lives_as_long_as_the_process(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(main, "get_settings", lambda: settings)
    threshold = gc.get_threshold()
    try:
        app = main.create_served_app()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] == main.COLLECTION_THRESHOLD
        assert app.state.settings is settings
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
