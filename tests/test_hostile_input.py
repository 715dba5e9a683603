"""Hostile input against every operation in the OpenAPI document: never a 500, always
problem+json, whatever the body, path or query holds."""

import base64
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.problems import PROBLEM_CONTENT_TYPE
from app.main import create_app
from app.schemas.common import MAX_IDS
from tests.factories import (
    Team,
    auth_headers,
    make_client,
    make_delivery,
    make_entry,
    make_project,
    make_tag,
    make_task,
    make_webhook,
)
from tests.problems import assert_problem

_SCHEMA = create_app().openapi()
# The event stream answers without end, which this client would wait for forever; its
# hostile input is tried in tests/test_event_stream.py.
ENDLESS = "text/event-stream"
OPERATIONS = [
    (method.upper(), path)
    for path, item in _SCHEMA["paths"].items()
    for method, operation in item.items()
    if path.startswith("/api/v1")
    and ENDLESS not in operation["responses"].get("200", {}).get("content", {})
]

NUL = "nul\x00byte"
HOSTILE_BODIES: list[Any] = [
    {},
    [],
    "text",
    None,
    {"name": NUL, "description": NUL, "email": f"{NUL}@example.com", "full_name": NUL},
    {"name": "n" * 100_000, "description": "d" * 100_000},
    {"start_at": "2024-13-45T99:99:99Z", "end_at": "yesterday", "hourly_rate_cents": 10**30},
    {"project_id": "not-a-uuid", "tag_ids": ["x"] * 5000, "ids": [str(uuid.uuid4())] * 5000},
    {"role": "superuser", "color": "red", "currency": "€€€", "timezone": "Mars/Olympus"},
]
HOSTILE_QUERIES = [
    {"limit": "-1", "cursor": "%%%", "from": "not-a-date", "include_total": "maybe"},
    {"q": NUL, "cursor": "eyJrIjoic3RhcnRfYXQiLCJ2IjoxLCJpZCI6IngifQ", "user_id": "nope"},
    {"limit": "99999999999999999999", "sort": "drop table", "ids": "x"},
]


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = _SCHEMA["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _plausible(schema: dict[str, Any], text: str) -> Any:
    """A value of the schema's type, with `text` wherever free text goes."""
    schema = _resolve(schema)
    for option in schema.get("anyOf", []):
        if _resolve(option).get("type") != "null":
            return _plausible(option, text)
    kind, fmt = schema.get("type"), schema.get("format")
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "string":
        return {
            "uuid": str(uuid.uuid4()),
            "date-time": "2024-01-01T09:00:00Z",
            "email": "someone@example.com",
        }.get(fmt, text)
    if kind in ("integer", "number"):
        return 1
    if kind == "boolean":
        return True
    if kind == "array":
        return [_plausible(schema.get("items", {}), text)]
    if kind == "object":
        return {name: _plausible(prop, text) for name, prop in schema.get("properties", {}).items()}
    return text


def _typed_bodies(method: str, template: str) -> list[Any]:
    """Bodies of the operation's own shape, with hostile text in every string field."""
    body = _SCHEMA["paths"][template][method.lower()].get("requestBody")
    if body is None:
        return []
    media = body["content"].get("application/json")
    if media is None:
        return []
    return [_plausible(media["schema"], text) for text in (NUL, "x" * 100_000, "\u202e\ufeff")]


def _deep_json(depth: int) -> str:
    return "[" * depth + "]" * depth


def _path(template: str, team: Team, filler: str) -> str:
    return (
        template.replace("{workspace_id}", str(team.workspace.id))
        .replace("{", "")
        .replace("}", "")
        .replace("project_id", filler)
        .replace("entry_id", filler)
        .replace("user_id", filler)
        .replace("token_id", filler)
        .replace("client_id", filler)
        .replace("task_id", filler)
        .replace("tag_id", filler)
        .replace("webhook_id", filler)
        .replace("delivery_id", filler)
    )


def _assert_handled(response: Any, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code} {response.text[:300]}"
    if response.status_code >= 400:
        assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE, what


@pytest.mark.parametrize(("method", "template"), OPERATIONS)
async def test_operation_survives_hostile_input(
    client: AsyncClient, team: Team, method: str, template: str
) -> None:
    headers = auth_headers(team.admin)
    for filler in (str(uuid.uuid4()), "not-a-uuid", "%00", "9" * 300):
        path = _path(template, team, filler)
        for query in HOSTILE_QUERIES:
            response = await client.request(method, path, params=query, headers=headers)
            _assert_handled(response, f"{method} {path} ?{query}")
        if method in ("POST", "PATCH", "PUT", "DELETE"):
            for body in [*HOSTILE_BODIES, *_typed_bodies(method, template)]:
                response = await client.request(
                    method,
                    path,
                    content=json.dumps(body),
                    headers={**headers, "content-type": "application/json"},
                )
                _assert_handled(response, f"{method} {path} {str(body)[:80]}")
            for raw in (_deep_json(100_000), "{not json", "\xff\xfe".encode("latin-1")):
                response = await client.request(
                    method,
                    path,
                    content=raw,
                    headers={**headers, "content-type": "application/json"},
                )
                _assert_handled(response, f"{method} {path} raw {str(raw)[:20]}")


@pytest.fixture
async def path_ids(session: AsyncSession, team: Team) -> dict[str, str]:
    """A real row for every path parameter, so that requests get past their lookups."""
    project = await make_project(session, team.workspace)
    ids = {
        "workspace_id": team.workspace.id,
        "project_id": project.id,
        "task_id": (await make_task(session, project)).id,
        "tag_id": (await make_tag(session, team.workspace)).id,
        "client_id": (await make_client(session, team.workspace)).id,
        "entry_id": (await make_entry(session, team.workspace, team.admin)).id,
        "user_id": team.admin.id,
    }
    webhook = await make_webhook(session, team.workspace, team.admin)
    ids["webhook_id"] = webhook.id
    ids["delivery_id"] = (await make_delivery(session, webhook)).id
    return {name: str(value) for name, value in ids.items()}


def _real_path(template: str, ids: dict[str, str]) -> str:
    return template.format(**ids)


def _parameters(method: str, template: str) -> list[dict[str, Any]]:
    return _SCHEMA["paths"][template][method.lower()].get("parameters", [])


def _formats(schema: dict[str, Any]) -> set[str]:
    schema = _resolve(schema)
    found = {schema["format"]} if "format" in schema else set()
    for option in schema.get("anyOf", []):
        found |= _formats(option)
    return found


LISTS = [
    (method, template)
    for method, template in OPERATIONS
    if any(parameter["name"] == "cursor" for parameter in _parameters(method, template))
]


def _cursor(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


SORT_KEYS = ("name", "created_at", "start_at", "updated_at")
DATETIME_KEYS = ("created_at", "start_at", "updated_at")
# Out of range, unreadable, or no datetime at all; none may reach the database.
OUT_OF_RANGE_INSTANTS = [
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:00:00-14:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "1899-12-31T23:59:59Z",
    "3000-01-01T00:00:00Z",
]
TAMPERED_VALUES: list[Any] = [None, 5, [], {}, True, 10**30, -1.5, "\ud800", "x\x00"]
TAMPERED_INSTANTS = ["", "not a date", "2024-01-01T00:00:00", *OUT_OF_RANGE_INSTANTS]
TAMPERED_IDS: list[Any] = [None, 5, [], {}, "\ud800", "not-a-uuid", str(uuid.uuid4()) + "\x00"]


def tampered_cursors() -> Iterator[str]:
    """Cursors of every list's shape with one part changed into what the list never sends."""
    row_id = str(uuid.uuid4())
    for key in SORT_KEYS:
        for value in TAMPERED_VALUES:
            yield _cursor({"k": key, "v": value, "id": row_id})
        for bad_id in TAMPERED_IDS:
            yield _cursor({"k": key, "v": "2024-01-01T00:00:00+00:00", "id": bad_id})
        yield _cursor({"k": key, "v": "2024-01-01T00:00:00+00:00", "id": row_id, "x": 1})
        yield _cursor({"k": key, "v": "2024-01-01T00:00:00+00:00"})
    for key in DATETIME_KEYS:
        for value in TAMPERED_INSTANTS:
            yield _cursor({"k": key, "v": value, "id": row_id})
    for payload in ([], "text", None, 5, {"k": "id", "v": row_id, "id": row_id}):
        yield _cursor(payload)
    yield base64.urlsafe_b64encode(b"\xff\xfe{").decode()
    yield "[" * 300


@pytest.mark.parametrize(("method", "template"), LISTS)
async def test_every_list_refuses_tampered_cursors(
    client: AsyncClient, team: Team, path_ids: dict[str, str], method: str, template: str
) -> None:
    path = _real_path(template, path_ids)
    headers = auth_headers(team.admin)
    for cursor in tampered_cursors():
        response = await client.request(
            method, path, params={"cursor": cursor, "group_by": "project"}, headers=headers
        )
        assert_problem(response, 422)
        assert response.json()["errors"] == [
            {"loc": ["query", "cursor"], "msg": "invalid cursor", "type": "value_error"}
        ], cursor


QUERY_INSTANTS = [
    (method, template, parameter["name"])
    for method, template in OPERATIONS
    for parameter in _parameters(method, template)
    if parameter["in"] == "query" and _formats(parameter["schema"]) & {"date-time", "date"}
]


def test_the_query_instants_are_the_known_ones() -> None:
    """A new datetime parameter must join the range test below (it does, through the
    document); this pins that the document still shows the ones the test was written for."""
    names = {(template.rsplit("/", 1)[-1], name) for _, template, name in QUERY_INSTANTS}
    assert {("time-entries", "from"), ("export", "updated_since"), ("summary", "to")} <= names


@pytest.mark.parametrize(("method", "template", "name"), QUERY_INSTANTS)
async def test_query_instants_out_of_range_are_422(
    client: AsyncClient,
    team: Team,
    path_ids: dict[str, str],
    method: str,
    template: str,
    name: str,
) -> None:
    path = _real_path(template, path_ids)
    for value in [*OUT_OF_RANGE_INSTANTS, "0001-01-01", "9999-12-31", "1899-12-31", "3000-01-01"]:
        response = await client.request(
            method,
            path,
            params={name: value, "group_by": "project"},
            headers=auth_headers(team.admin),
        )
        assert_problem(response, 422)
        locations = [error["loc"] for error in response.json()["errors"]]
        assert any(loc[:2] == ["query", name] for loc in locations), (value, locations)


def _instant_fields(
    schema: dict[str, Any], path: tuple[str, ...] = ()
) -> Iterator[tuple[str, ...]]:
    """The paths of every date-time field in a body schema, nested ones included."""
    schema = _resolve(schema)
    if "date-time" in _formats(schema):
        yield path
    for option in schema.get("anyOf", []):
        if _resolve(option).get("type") == "object":
            yield from _instant_fields(option, path)
    for name, field in schema.get("properties", {}).items():
        yield from _instant_fields(field, (*path, name))


def _body_schema(method: str, template: str) -> dict[str, Any] | None:
    body = _SCHEMA["paths"][template][method.lower()].get("requestBody")
    media = body["content"].get("application/json") if body else None
    return media["schema"] if media else None


BODY_INSTANTS = [
    (method, template, field)
    for method, template in OPERATIONS
    if (schema := _body_schema(method, template)) is not None
    for field in _instant_fields(schema)
]


def test_the_body_instants_are_the_known_ones() -> None:
    fields = {
        (method, template.rsplit("/", 1)[-1], field) for method, template, field in BODY_INSTANTS
    }
    assert {
        ("POST", "time-entries", ("start_at",)),
        ("PATCH", "{entry_id}", ("end_at",)),
        ("PATCH", "time-entries", ("changes", "start_at")),
        ("POST", "tokens", ("expires_at",)),
    } <= fields


def _with(body: dict[str, Any], field: tuple[str, ...], value: str) -> dict[str, Any]:
    body = json.loads(json.dumps(body))
    target = body
    for name in field[:-1]:
        target = target[name]
    target[field[-1]] = value
    return body


@pytest.mark.parametrize(("method", "template", "field"), BODY_INSTANTS)
async def test_body_instants_out_of_range_are_422(
    client: AsyncClient,
    team: Team,
    path_ids: dict[str, str],
    method: str,
    template: str,
    field: tuple[str, ...],
) -> None:
    schema = _body_schema(method, template)
    assert schema is not None
    base = _plausible(schema, "text")
    path = _real_path(template, path_ids)
    for value in OUT_OF_RANGE_INSTANTS:
        response = await client.request(
            method, path, json=_with(base, field, value), headers=auth_headers(team.admin)
        )
        assert_problem(response, 422)
        locations = [error["loc"] for error in response.json()["errors"]]
        assert any(loc[: len(field) + 1] == ["body", *field] for loc in locations), locations


# Strings whose format or values bound them already (email-validator refuses long addresses).
_BOUNDED_FORMATS = {"uuid", "date-time", "date", "email"}


def _unbounded(schema: dict[str, Any], where: str) -> Iterator[str]:
    """Where a request schema takes text or lists without a size limit."""
    schema = _resolve(schema)
    for option in schema.get("anyOf", []):
        yield from _unbounded(option, where)
    kind = schema.get("type")
    if kind == "string" and not (
        "maxLength" in schema
        or "enum" in schema
        or "pattern" in schema
        or schema.get("format") in _BOUNDED_FORMATS
        or "contentMediaType" in schema  # an uploaded file, under the upload limit
    ):
        yield where
    if kind == "array":
        if "maxItems" not in schema:
            yield where
        yield from _unbounded(schema.get("items", {}), f"{where}[]")
    for name, field in schema.get("properties", {}).items():
        yield from _unbounded(field, f"{where}.{name}")


def test_every_request_schema_bounds_its_text_and_lists() -> None:
    unbounded = []
    for method, template in OPERATIONS:
        operation = f"{method} {template}"
        for parameter in _parameters(method, template):
            unbounded += _unbounded(parameter["schema"], f"{operation} {parameter['name']}")
        body = _SCHEMA["paths"][template][method.lower()].get("requestBody")
        for media_type, media in (body or {}).get("content", {}).items():
            unbounded += _unbounded(media["schema"], f"{operation} {media_type}")
    assert unbounded == []


async def test_lists_and_text_beyond_their_size_are_422(client: AsyncClient, team: Team) -> None:
    headers = auth_headers(team.admin)
    workspace = f"/api/v1/workspaces/{team.workspace.id}"
    too_many = [("user_id", str(uuid.uuid4())) for _ in range(MAX_IDS + 1)]
    for path in ("/time-entries", "/time-entries/export", "/projects", "/tasks"):
        name = {"/projects": "client_id", "/tasks": "project_id"}.get(path, "user_id")
        params = [(name, value) for _, value in too_many]
        assert_problem(await client.get(f"{workspace}{path}", params=params, headers=headers), 422)
    summary = await client.get(
        f"{workspace}/reports/summary", params=[("group_by", "user"), *too_many], headers=headers
    )
    assert_problem(summary, 422)
    profile = await client.patch("/api/v1/users/me", json={"timezone": "x" * 65}, headers=headers)
    assert_problem(profile, 422)
