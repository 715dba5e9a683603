"""Request ids, the Prometheus metrics and the JSON access log, in one process.

`tests/test_serve_workers.py` checks the same through `timesheet serve --workers 2`.
"""

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr, ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Environment, LogFormat, Settings
from app.db.engine import Sessions
from app.main import create_app
from app.observability.logs import RequestIdFilter, json_formatter
from app.observability.request_id import REQUEST_ID_MAX_LENGTH
from tests.factories import DEFAULT_PASSWORD, Team, auth_headers, sign_in

CLIENTS_ROUTE = "/api/v1/workspaces/{workspace_id}/clients"


def request_counts(exposition: str) -> dict[tuple[str, str, str], float]:
    """`http_requests_total` by (method, route, status)."""
    counts = {}
    for family in text_string_to_metric_families(exposition):
        if family.name == "http_requests":
            for sample in family.samples:
                if sample.name == "http_requests_total":
                    labels = sample.labels
                    counts[labels["method"], labels["route"], labels["status"]] = sample.value
    return counts


def duration_counts(exposition: str) -> dict[tuple[str, str], float]:
    counts = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == "http_request_duration_seconds_count":
                counts[sample.labels["method"], sample.labels["route"]] = sample.value
    return counts


async def client_for(
    settings: Settings, engine: AsyncEngine, sessions: Sessions
) -> tuple[FastAPI, AsyncClient]:
    app = create_app(settings)
    app.state.engine = engine
    app.state.sessions = sessions
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    return app, AsyncClient(transport=transport, base_url="http://test")


# Metrics


async def test_metrics_count_requests_by_route_template(client: AsyncClient, team: Team) -> None:
    workspace_id = team.workspace.id
    headers = auth_headers(team.member)
    for _ in range(3):
        assert (
            await client.get(f"/api/v1/workspaces/{workspace_id}/clients", headers=headers)
        ).status_code == 200
    assert (await client.get(f"/api/v1/workspaces/{workspace_id}/clients")).status_code == 401
    assert (await client.get("/livez")).status_code == 200
    assert (await client.get(f"/no/such/{workspace_id}")).status_code == 404
    assert (await client.request("BREW", "/livez")).status_code == 405

    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    counts = request_counts(response.text)
    assert counts[("GET", CLIENTS_ROUTE, "200")] == 3
    assert counts[("GET", CLIENTS_ROUTE, "401")] == 1
    assert counts[("GET", "/livez", "200")] == 1
    assert counts[("GET", "unmatched", "404")] == 1
    assert counts[("other", "/livez", "405")] == 1
    # Raw paths never become labels: the set of series stays bounded.
    assert str(workspace_id) not in response.text
    assert duration_counts(response.text)[("GET", CLIENTS_ROUTE)] == 4


async def test_each_app_counts_its_own_requests(
    settings: Settings, engine: AsyncEngine, sessions: Sessions, client: AsyncClient
) -> None:
    await client.get("/livez")
    _app, other = await client_for(settings, engine, sessions)
    async with other:
        counts = request_counts((await other.get("/metrics")).text)
    assert ("GET", "/livez", "200") not in counts


async def test_metrics_can_be_turned_off(
    settings: Settings, engine: AsyncEngine, sessions: Sessions
) -> None:
    off = settings.model_copy(update={"metrics_enabled": False})
    _app, client = await client_for(off, engine, sessions)
    async with client:
        response = await client.get("/metrics")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_metrics_bearer_token_when_configured(
    settings: Settings, engine: AsyncEngine, sessions: Sessions
) -> None:
    guarded = settings.model_copy(
        update={"metrics_bearer_token": SecretStr("scrape-secret-with-some-length")}
    )
    _app, client = await client_for(guarded, engine, sessions)
    async with client:
        missing = await client.get("/metrics")
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
        right = await client.get(
            "/metrics", headers={"Authorization": "Bearer scrape-secret-with-some-length"}
        )
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert wrong.status_code == 401
    assert right.status_code == 200
    assert "http_requests_total" in right.text


def test_metrics_are_not_in_the_openapi_document(app: FastAPI) -> None:
    assert "/metrics" not in app.openapi()["paths"]


# Request ids

HEX_ID = re.compile(r"[0-9a-f]{32}")


async def test_request_id_is_echoed(client: AsyncClient) -> None:
    response = await client.get("/livez", headers={"X-Request-ID": "edge-7f3a:42.b_c"})
    assert response.headers["x-request-id"] == "edge-7f3a:42.b_c"


async def test_request_id_is_generated_when_missing(client: AsyncClient) -> None:
    first = (await client.get("/livez")).headers["x-request-id"]
    second = (await client.get("/livez")).headers["x-request-id"]
    assert HEX_ID.fullmatch(first)
    assert HEX_ID.fullmatch(second)
    assert first != second


@pytest.mark.parametrize(
    "hostile",
    [
        "x" * (REQUEST_ID_MAX_LENGTH + 1),
        "<script>alert(1)</script>",
        "id with spaces",
        'id"}, {"level": "forged',
        "ünïcode",
    ],
)
async def test_hostile_request_id_is_replaced(client: AsyncClient, hostile: str) -> None:
    response = await client.get("/livez", headers={"X-Request-ID": hostile.encode()})
    assert HEX_ID.fullmatch(response.headers["x-request-id"])


async def test_longest_accepted_request_id(client: AsyncClient) -> None:
    longest = "a" * REQUEST_ID_MAX_LENGTH
    response = await client.get("/livez", headers={"X-Request-ID": longest})
    assert response.headers["x-request-id"] == longest


async def test_request_id_on_problem_responses(client: AsyncClient, team: Team) -> None:
    not_found = await client.get("/nothing", headers={"X-Request-ID": "r-404"})
    unauthenticated = await client.get(
        f"/api/v1/workspaces/{team.workspace.id}/clients", headers={"X-Request-ID": "r-401"}
    )
    invalid = await client.post(
        f"/api/v1/workspaces/{team.workspace.id}/clients",
        json={"name": ""},
        headers={**auth_headers(team.admin), "X-Request-ID": "r-422"},
    )
    assert not_found.status_code == 404
    assert not_found.headers.get_list("x-request-id") == ["r-404"]
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers.get_list("x-request-id") == ["r-401"]
    assert invalid.status_code == 422
    assert invalid.headers.get_list("x-request-id") == ["r-422"]


async def test_request_id_on_unexpected_errors(app: FastAPI, client: AsyncClient) -> None:
    async def broken() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/broken", broken)
    given = await client.get("/broken", headers={"X-Request-ID": "r-500"})
    generated = await client.get("/broken")
    assert given.status_code == 500
    assert given.headers.get_list("x-request-id") == ["r-500"]
    assert generated.status_code == 500
    assert HEX_ID.fullmatch(generated.headers["x-request-id"])
    counts = request_counts((await client.get("/metrics")).text)
    assert counts[("GET", "/broken", "500")] == 2


async def test_request_id_header_is_exposed_to_browsers(
    settings: Settings, engine: AsyncEngine, sessions: Sessions
) -> None:
    cors = settings.model_copy(update={"cors_origins": ["https://app.example.com"]})
    _app, client = await client_for(cors, engine, sessions)
    async with client:
        response = await client.get("/livez", headers={"Origin": "https://app.example.com"})
    exposed = response.headers["access-control-expose-headers"].lower().split(", ")
    assert "x-request-id" in exposed


# Access log


@pytest.fixture
def access_log() -> Iterator[io.StringIO]:
    """What the access logger writes through the JSON formatter `timesheet serve` uses."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("timesheet.access")
    previous_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(previous_level)


def lines_of(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_one_json_line_per_request(
    client: AsyncClient, team: Team, access_log: io.StringIO
) -> None:
    headers = {**auth_headers(team.member), "X-Request-ID": "trace-1"}
    await client.get(f"/api/v1/workspaces/{team.workspace.id}/clients?limit=5", headers=headers)
    await client.get("/livez")

    listed, live = lines_of(access_log)
    assert listed["logger"] == "timesheet.access"
    assert listed["level"] == "INFO"
    assert listed["method"] == "GET"
    assert listed["route"] == CLIENTS_ROUTE
    assert listed["path"] == f"/api/v1/workspaces/{team.workspace.id}/clients"
    assert listed["status"] == 200
    assert isinstance(listed["duration_ms"], float)
    assert listed["request_id"] == "trace-1"
    assert listed["user_id"] == str(team.member.id)
    assert listed["workspace_id"] == str(team.workspace.id)
    assert "timestamp" in listed
    assert live["route"] == "/livez"
    assert HEX_ID.fullmatch(str(live["request_id"]))
    assert "user_id" not in live


async def test_access_log_holds_no_secrets(
    client: AsyncClient, team: Team, access_log: io.StringIO
) -> None:
    signed_in = await sign_in(client, team.member.email)
    assert signed_in.status_code == 200
    token = signed_in.json()["access_token"]
    await client.get(
        "/api/v1/users/me?access_token=query-secret", headers={"Authorization": f"Bearer {token}"}
    )
    await client.get(
        f"/api/v1/workspaces/{team.workspace.id}/clients", headers=auth_headers(team.owner)
    )

    written = access_log.getvalue()
    assert len(lines_of(access_log)) == 3
    for secret in (DEFAULT_PASSWORD, token, "query-secret", "Bearer", "Authorization"):
        assert secret not in written
    signed_in_line, me, _ = lines_of(access_log)
    assert signed_in_line["route"] == "/api/v1/auth/token"
    assert me["path"] == "/api/v1/users/me"
    assert me["user_id"] == str(team.member.id)


async def test_unexpected_errors_are_logged_with_their_request_id(
    app: FastAPI, client: AsyncClient, access_log: io.StringIO, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/broken", broken)
    caplog.handler.addFilter(RequestIdFilter())
    await client.get("/broken", headers={"X-Request-ID": "r-bug"})

    (line,) = lines_of(access_log)
    assert line["status"] == 500
    assert line["request_id"] == "r-bug"
    errors = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert errors
    assert all(record.request_id == "r-bug" for record in errors)


def test_log_format_is_json_unless_developing() -> None:
    def format_for(**values: object) -> LogFormat:
        return Settings(_env_file=None, secret_key="x" * 32, **values).effective_log_format

    assert format_for(environment=Environment.PRODUCTION) is LogFormat.JSON
    assert format_for(environment=Environment.TEST) is LogFormat.JSON
    assert format_for(environment=Environment.DEVELOPMENT) is LogFormat.CONSOLE
    assert format_for(environment=Environment.DEVELOPMENT, log_format="json") is LogFormat.JSON
    assert Settings(_env_file=None, log_level="debug").log_level == "DEBUG"
    with pytest.raises(ValidationError):
        Settings(_env_file=None, log_level="chatty")
