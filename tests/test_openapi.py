"""The OpenAPI document is valid and complete enough for generated clients."""

import json
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate
from pydantic import BaseModel
from typer.testing import CliRunner

from app.api.problems import PROBLEM_CONTENT_TYPE, ProblemType, responses
from app.api.problems import problem_type as problem_type_of
from app.cli import cli
from app.main import create_app
from app.openapi import document_text, nodes

# Reached without an account: health checks, signing in, and shared report links.
PUBLIC_PREFIXES = ("/livez", "/readyz", "/api/v1/auth/", "/api/v1/shared-reports/")
SCHEMAS = "#/components/schemas/"
COMMITTED = Path(__file__).parent.parent / "openapi.json"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return create_app().openapi()


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    ]


def test_document_is_valid_openapi(schema: dict[str, Any]) -> None:
    validate(schema)


def test_protected_routes_declare_security_and_401(schema: dict[str, Any]) -> None:
    assert "OAuth2PasswordBearer" in schema["components"]["securitySchemes"]
    for method, path, operation in _operations(schema):
        if path.startswith(PUBLIC_PREFIXES):
            continue
        assert operation.get("security"), (method, path)
        assert "401" in operation["responses"], (method, path)


def test_workspace_routes_declare_404_and_writes_declare_422(schema: dict[str, Any]) -> None:
    for method, path, operation in _operations(schema):
        if path.startswith("/api/v1/workspaces/{workspace_id}"):
            assert "404" in operation["responses"], (method, path)
        if method in ("post", "patch") and "requestBody" in operation:
            assert "422" in operation["responses"], (method, path)


def test_operations_with_a_body_declare_413(schema: dict[str, Any]) -> None:
    for method, path, operation in _operations(schema):
        if "requestBody" in operation:
            assert "413" in operation["responses"], (method, path)


def test_enums_are_named_schemas(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    for name in ("Role", "ProjectVisibility", "EntrySource", "WeekStart", "TimeEntrySort"):
        assert "enum" in components[name], name


def _reachable(node: Any, schemas: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    pending = [node]
    while pending:
        for child in nodes(pending.pop()):
            name = child.get("$ref", "").removeprefix(SCHEMAS)
            if name in schemas and name not in found:
                found.add(name)
                pending.append(schemas[name])
    return found


def _response_schemas(schema: dict[str, Any]) -> set[str]:
    responses = [operation["responses"] for _, _, operation in _operations(schema)]
    return _reachable(responses, schema["components"]["schemas"])


def test_committed_document_is_current() -> None:
    committed = COMMITTED.read_text() if COMMITTED.exists() else ""
    if committed != document_text(create_app()):
        pytest.fail(
            "openapi.json differs from the app's OpenAPI document: run "
            "`timesheet openapi > openapi.json` and review the diff."
        )


def test_error_responses_are_problem_json_only(schema: dict[str, Any]) -> None:
    for method, path, operation in _operations(schema):
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                content = response.get("content", {})
                assert list(content) == [PROBLEM_CONTENT_TYPE], (method, path, status)
                assert content[PROBLEM_CONTENT_TYPE]["schema"] == {"$ref": f"{SCHEMAS}Problem"}


def test_problem_names_are_rfc_9110_whichever_python_runs(schema: dict[str, Any]) -> None:
    """Python 3.13 renamed some reasons; the document must not change with the Python."""
    types = schema["components"]["schemas"]["ProblemType"]["enum"]
    assert "urn:timesheet:problem:content-too-large" in types
    assert not [kind for kind in types if "entity" in kind]
    responses = [op["responses"] for _, _, op in _operations(schema)]
    assert {r["413"]["description"] for r in responses if "413" in r} == {"Content Too Large"}


def test_problem_types_are_a_documented_enum(schema: dict[str, Any]) -> None:
    schemas = schema["components"]["schemas"]
    assert schemas["Problem"]["properties"]["type"]["$ref"] == f"{SCHEMAS}ProblemType"
    problem_type = schemas["ProblemType"]
    assert problem_type["enum"] == [kind.value for kind in ProblemType]
    for kind in problem_type["enum"]:
        assert f"`{kind}`" in problem_type["description"]
    declared = {int(s) for _, _, op in _operations(schema) for s in op["responses"]}
    for status in declared - {200, 201, 202, 204}:
        assert problem_type_of(status) is not ProblemType.UNTYPED, status


def test_error_headers_are_declared(schema: dict[str, Any]) -> None:
    for method, path, operation in _operations(schema):
        for status, response in operation["responses"].items():
            headers = response.get("headers", {})
            if status in ("429", "503"):
                assert "Retry-After" in headers, (method, path, status)
            if status == "401":
                assert "WWW-Authenticate" in headers, (method, path, status)


def test_versioned_responses_declare_their_etag(schema: dict[str, Any]) -> None:
    schemas = schema["components"]["schemas"]
    etag = schema["components"]["headers"]["ETag"]
    assert '"<version>"' in etag["description"] and etag["schema"]["pattern"] == '^"[0-9]+"$'
    declared = 0
    for method, path, operation in _operations(schema):
        for status, response in operation["responses"].items():
            body = response.get("content", {}).get("application/json", {}).get("schema", {})
            target = schemas.get(body.get("$ref", "").removeprefix(SCHEMAS), {})
            if status.startswith("2") and "version" in target.get("properties", {}):
                etag_ref = response.get("headers", {}).get("ETag")
                assert etag_ref == {"$ref": "#/components/headers/ETag"}, (method, path, status)
                declared += 1
    assert declared > 30


def test_if_match_is_documented(schema: dict[str, Any]) -> None:
    writes = [op for method, _, op in _operations(schema) if method in ("patch", "delete")]
    if_matches = [p for op in writes for p in op.get("parameters", []) if p["name"] == "If-Match"]
    assert len(if_matches) > 10
    for parameter in if_matches:
        assert parameter["schema"]["type"] == "string"
        assert "ETag" in parameter["description"] and '"<version>"' in parameter["description"]


def test_response_properties_with_defaults_are_required(schema: dict[str, Any]) -> None:
    schemas = schema["components"]["schemas"]
    for name in _response_schemas(schema) - {"Problem"}:
        for field, spec in schemas[name].get("properties", {}).items():
            assert field in schemas[name].get("required", []), (name, field)
            assert "default" not in spec or field in schemas[name]["required"]
    assert "errors" not in schemas["Problem"]["required"]


def test_nothing_is_read_only(schema: dict[str, Any]) -> None:
    assert not [node for node in nodes(schema) if node.get("readOnly") is True]


def test_integer_bounds_are_integers(schema: dict[str, Any]) -> None:
    for node in nodes(schema):
        for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            if node.get("type") == "integer" and key in node:
                assert type(node[key]) is int, node


def test_optional_parameters_are_not_nullable(schema: dict[str, Any]) -> None:
    for method, path, operation in _operations(schema):
        for parameter in operation.get("parameters", []):
            if not parameter.get("required"):
                spec = parameter["schema"]
                nullable = [s for s in nodes(spec) if s.get("type") == "null"]
                assert not nullable, (method, path, parameter["name"])
                assert spec.get("default", "absent") is not None, (method, path, parameter)


def test_enums_name_their_members(schema: dict[str, Any]) -> None:
    for node in nodes(schema):
        if len(node.get("enum", ())) > 1:
            names = node.get("x-enum-varnames", [])
            assert len(names) == len(node["enum"]), node
            assert all(name.isidentifier() and name.isupper() for name in names), node
    schemas = schema["components"]["schemas"]
    assert schemas["TimeEntrySort"]["x-enum-varnames"][0] == "START_AT_DESC"
    assert schemas["BulkStatus"]["x-enum-varnames"][0] == "OK"


def test_every_operation_and_parameter_is_described(schema: dict[str, Any]) -> None:
    for method, path, operation in _operations(schema):
        assert operation.get("summary") and operation.get("description"), (method, path)
        for parameter in operation.get("parameters", []):
            assert parameter.get("description"), (method, path, parameter["name"])


def test_every_schema_and_property_is_described(schema: dict[str, Any]) -> None:
    for name, component in schema["components"]["schemas"].items():
        # Multipart forms' schemas are FastAPI's, named after the route: their fields are
        # described.
        if not name.startswith("Body_"):
            assert component.get("description"), name
        for field, spec in component.get("properties", {}).items():
            assert spec.get("description"), (name, field)


def test_bodies_have_examples(schema: dict[str, Any]) -> None:
    """Every JSON or form body sent or received, but pages (their items have examples)."""
    schemas = schema["components"]["schemas"]
    for method, path, operation in _operations(schema):
        bodies = [operation.get("requestBody", {})] + [
            response for status, response in operation["responses"].items()
        ]
        for body in bodies:
            for media_type, content in body.get("content", {}).items():
                name = content.get("schema", {}).get("$ref", "").removeprefix(SCHEMAS)
                if name and media_type != "multipart/form-data":
                    target = schemas[name]
                    if name.startswith("Page_"):
                        item = target["properties"]["items"]["items"]["$ref"]
                        target = schemas[item.removeprefix(SCHEMAS)]
                    assert target.get("examples"), (method, path, media_type, name)


def test_tags_and_servers_are_declared(schema: dict[str, Any]) -> None:
    described = {tag["name"] for tag in schema["tags"] if tag.get("description")}
    used = {tag for _, _, operation in _operations(schema) for tag in operation["tags"]}
    assert used <= described, used - described
    assert schema["servers"]


def test_my_timer_answers_204_without_a_timer(schema: dict[str, Any]) -> None:
    responses = schema["paths"]["/api/v1/users/me/timer"]["get"]["responses"]
    assert "204" in responses and "content" not in responses["204"]
    assert responses["200"]["content"]["application/json"]["schema"] == {
        "$ref": f"{SCHEMAS}TimeEntryRead"
    }


def test_openapi_command_prints_the_document() -> None:
    result = CliRunner().invoke(cli, ["openapi"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == create_app().openapi()


def test_the_rules_hold_for_a_route_added_later() -> None:
    class Later(BaseModel):
        version: int
        note: str | None = None

    app = create_app()

    @app.get("/later", summary="Later", responses=responses(429))
    async def later(q: str | None = None) -> Later:
        return Later(version=1)

    document = app.openapi()
    operation = document["paths"]["/later"]["get"]
    assert document["components"]["schemas"]["Later"]["required"] == ["version", "note"]
    assert operation["parameters"][0]["schema"] == {"type": "string", "title": "Q"}
    assert operation["responses"]["200"]["headers"] == {
        "ETag": {"$ref": "#/components/headers/ETag"}
    }
    too_many = operation["responses"]["429"]
    assert list(too_many["content"]) == [PROBLEM_CONTENT_TYPE]
    assert too_many["headers"] == {"Retry-After": {"$ref": "#/components/headers/Retry-After"}}
