"""OpenAPI shaping so generated clients come out clean."""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from app.api.problems import PROBLEM_CONTENT_TYPE


def operation_id(route: APIRoute) -> str:
    """The route's own name, e.g. `list_clients`: generated clients put it under the tag
    already, so repeating the tag would give `Clients.clientsListClients()`."""
    return route.name


def install_openapi(app: FastAPI) -> None:
    def build() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
        )
        components = schema.get("components", {}).get("schemas", {})
        problem_ref = {"$ref": "#/components/schemas/Problem"}
        # Validation errors are problem+json too, not FastAPI's default body.
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                invalid = operation.get("responses", {}).get("422")
                if invalid is not None:
                    invalid["content"] = {PROBLEM_CONTENT_TYPE: {"schema": problem_ref}}
                    invalid["description"] = "Unprocessable Content"
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        app.openapi_schema = schema
        return schema

    app.openapi = build  # type: ignore[method-assign]
