"""OpenAPI shaping so generated clients come out clean.

FastAPI writes the document from the routes; `shape` then applies the rules every route
shares, so a route added later follows them without declaring anything:

- error responses are `application/problem+json` only, with their headers, and every
  operation with a body may answer 413;
- a success response whose body is a versioned resource declares its `ETag`;
- every property of a response-only schema is required, since the server always sends it;
- an optional parameter is not also nullable, and integer bounds are integers;
- enums carry their Python member names (`x-enum-varnames`), e.g. `START_AT_DESC`;
- `readOnly` is dropped (generators would add unused `*Writable` types);
- a path parameter or property `<noun>_id`, and the columns every row has, are described
  where nothing more specific is said;
- path parameters come first, in the order the path names them (generated clients take
  them positionally), whichever dependency declares them.
"""

import enum
import json
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from app.api.problems import PROBLEM_CONTENT_TYPE, Problem, reason_phrase

Json = dict[str, Any]

SCHEMAS = "#/components/schemas/"
PROBLEM_REF = {"$ref": f"{SCHEMAS}Problem"}

HEADERS: dict[str, Json] = {
    "ETag": {
        "description": 'The resource\'s version as a quoted integer, `"<version>"`; send it '
        "back in `If-Match` to write only if nobody changed the resource since.",
        "schema": {"type": "string", "pattern": '^"[0-9]+"$', "examples": ['"3"']},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 1, "examples": [30]},
    },
    "WWW-Authenticate": {
        "description": "The scheme to authenticate with: `Bearer`.",
        "schema": {"type": "string", "examples": ["Bearer"]},
    },
}
# What the columns every row has mean, wherever a schema says nothing more specific.
ROW_PROPERTIES = {
    "id": "The id, a UUID.",
    "version": 'Goes up by one with every change; the ETag is `"<version>"`.',
    "created_at": "When it was created.",
    "updated_at": "When it last changed.",
    "deleted_at": "When it was deleted; null while it is live.",
    "archived_at": "When it was archived; null while it is active.",
}
# Headers each error status carries.
ERROR_HEADERS = {401: ("WWW-Authenticate",), 429: ("Retry-After",), 503: ("Retry-After",)}
VERSION_PROPERTY = "version"
# Hand-rendered by `problem_response`: `errors` is sent only when fields are to blame.
OPTIONAL_BY_DESIGN = frozenset({"Problem"})


def operation_id(route: APIRoute) -> str:
    """The route's own name, e.g. `list_clients`: generated clients put it under the tag
    already, so repeating the tag would give `Clients.clientsListClients()`."""
    return route.name


def install_openapi(app: FastAPI, servers: list[Json]) -> None:
    def build() -> Json:
        if app.openapi_schema is None:
            app.openapi_schema = shape(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                    tags=app.openapi_tags,
                    servers=servers,
                )
            )
        return app.openapi_schema

    app.openapi = build  # type: ignore[method-assign]


def document_text(app: FastAPI) -> str:
    """The document as committed in `openapi.json`, so every change shows as a diff."""
    return json.dumps(app.openapi(), indent=2, ensure_ascii=False) + "\n"


def shape(document: Json) -> Json:
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    # FastAPI's validation error bodies; ours are problems.
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    components["headers"] = HEADERS
    operations = [op for item in document["paths"].values() for op in item.values()]
    for path, item in document["paths"].items():
        for operation in item.values():
            _order_parameters(path, operation)
    for operation in operations:
        if "requestBody" in operation:
            # The body size limit (`app.api.edge`) answers before any route does.
            operation["responses"].setdefault("413", {})
        _shape_responses(operation, schemas)
        for parameter in operation.get("parameters", []):
            _shape_parameter(parameter)
    _require_what_is_always_sent(operations, schemas)
    problem = Problem.model_json_schema(ref_template=SCHEMAS + "{model}")
    schemas.update(problem.pop("$defs"))
    schemas["Problem"] = problem
    _name_enum_members(schemas)
    for schema in schemas.values():
        for name, spec in schema.get("properties", {}).items():
            _describe(spec, name)
    for node in nodes(document):
        if node.get("readOnly") is True:
            del node["readOnly"]
        _integer_bounds(node)
    return document


def _shape_responses(operation: Json, schemas: Json) -> None:
    for code, response in operation["responses"].items():
        status = int(code)
        if status >= 400:
            response["description"] = reason_phrase(status)
            response["content"] = {PROBLEM_CONTENT_TYPE: {"schema": PROBLEM_REF}}
            names = ERROR_HEADERS.get(status, ())
        else:
            body = response.get("content", {}).get("application/json", {}).get("schema", {})
            target = schemas.get(body.get("$ref", "").removeprefix(SCHEMAS), {})
            names = ("ETag",) if VERSION_PROPERTY in target.get("properties", {}) else ()
        for name in names:
            response.setdefault("headers", {})[name] = {"$ref": f"#/components/headers/{name}"}


def _order_parameters(path: str, operation: Json) -> None:
    def place(parameter: Json) -> int:
        if parameter["in"] != "path":
            return len(path)
        return path.index("{" + parameter["name"] + "}")

    if "parameters" in operation:
        operation["parameters"].sort(key=place)


def _shape_parameter(parameter: Json) -> None:
    schema = parameter["schema"]
    if not parameter.get("required"):
        # Omitting an optional parameter is how to say "none"; null is not a value to send.
        variants = [s for s in schema.get("anyOf", []) if s.get("type") != "null"]
        if len(variants) == 1:
            outer = {k: v for k, v in schema.items() if k != "anyOf"}
            schema = parameter["schema"] = {**variants[0], **outer}
        elif variants:
            schema["anyOf"] = variants
        if "default" in schema and schema["default"] is None:
            del schema["default"]
    _describe(parameter, parameter["name"])


def _describe(holder: Json, name: str) -> None:
    """A description for a row's column or an id, where none more specific was given."""
    if "description" in holder:
        return
    if name in ROW_PROPERTIES:
        holder["description"] = ROW_PROPERTIES[name]
    elif name.endswith("_id"):
        holder["description"] = f"The {name.removesuffix('_id').replace('_', ' ')}'s id."


def _require_what_is_always_sent(operations: list[Json], schemas: Json) -> None:
    """Responses are serialized whole, defaults included: a property that has a default in
    a request is always present in a response."""
    sent: set[str] = set()
    received: set[str] = set()
    for operation in operations:
        _collect_refs(operation.get("responses", {}), schemas, sent)
        _collect_refs(operation.get("requestBody", {}), schemas, received)
        _collect_refs(operation.get("parameters", []), schemas, received)
    for name in sorted(sent - received - OPTIONAL_BY_DESIGN):
        properties = schemas[name].get("properties")
        if properties:
            schemas[name]["required"] = list(properties)


def _collect_refs(node: Any, schemas: Json, found: set[str]) -> None:
    for child in nodes(node):
        name = child.get("$ref", "").removeprefix(SCHEMAS)
        if name in schemas and name not in found:
            found.add(name)
            _collect_refs(schemas[name], schemas, found)


def _app_enums() -> dict[str, type[enum.Enum]]:
    found: dict[str, type[enum.Enum]] = {}
    pending = list(enum.Enum.__subclasses__())
    while pending:
        kind = pending.pop()
        pending.extend(kind.__subclasses__())
        if kind.__module__.startswith("app.") and len(kind):
            found[kind.__name__] = kind
    return found


def _name_enum_members(schemas: Json) -> None:
    """`x-enum-varnames` from the enum's Python names: without them generators name
    `-start_at` or `200` `VALUE_0` and `VALUE_200`."""
    enums = _app_enums()
    for name, schema in schemas.items():
        kind = enums.get(name)
        if kind is not None and schema.get("enum") == [member.value for member in kind]:
            schema["x-enum-varnames"] = [member.name for member in kind]


def _integer_bounds(node: Json) -> None:
    if node.get("type") != "integer":
        return
    for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        if isinstance(node.get(key), float) and node[key].is_integer():
            node[key] = int(node[key])


def nodes(node: Any) -> Iterator[Json]:
    """Every object in `node`, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from nodes(value)
