"""The OpenAPI document is valid and complete enough for generated clients."""

from typing import Any

import pytest
from openapi_spec_validator import validate

from app.api.problems import PROBLEM_CONTENT_TYPE
from app.main import create_app

PUBLIC_PREFIXES = ("/livez", "/readyz", "/api/v1/auth/")


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


def test_every_error_response_is_problem_json(schema: dict[str, Any]) -> None:
    for method, path, operation in _operations(schema):
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                assert PROBLEM_CONTENT_TYPE in response.get("content", {}), (method, path, status)


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


def test_enums_are_named_schemas(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    for name in ("Role", "ProjectVisibility", "EntrySource", "WeekStart", "TimeEntrySort"):
        assert "enum" in components[name], name
