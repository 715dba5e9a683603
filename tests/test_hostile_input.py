"""Hostile input against every operation in the OpenAPI document: never a 500, always
problem+json, whatever the body, path or query holds."""

import json
import uuid
from typing import Any

import pytest
from httpx import AsyncClient

from app.api.problems import PROBLEM_CONTENT_TYPE
from app.main import create_app
from tests.factories import Team, auth_headers

_SCHEMA = create_app().openapi()
OPERATIONS = [
    (method.upper(), path)
    for path, item in _SCHEMA["paths"].items()
    for method in item
    if path.startswith("/api/v1")
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
