"""The API's edge for errors: domain errors and everything else rendered as RFC 9457
problem+json, and the declarations that tell the OpenAPI document about them."""

import logging
from enum import StrEnum
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.db.integrity import sqlstate_of
from app.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidCursor,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    StaleVersion,
    TooLarge,
    TooManyAttempts,
    Unavailable,
)
from app.observability.request_id import REQUEST_ID_HEADER, current_request_id

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "urn:timesheet:problem:"

logger = logging.getLogger(__name__)

# The status of each kind of domain error; subclasses take their nearest ancestor's.
_STATUSES: dict[type[DomainError], int] = {
    NotAuthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    StaleVersion: 412,
    TooLarge: 413,
    InvalidInput: 422,
    TooManyAttempts: 429,
    Unavailable: 503,
}
# Statuses the framework answers by itself: a body it cannot parse, an unknown path or
# method, and the unexpected failure.
_FRAMEWORK_STATUSES = (400, 404, 405, 500)
# RFC 9110's names where Python's older ones differ (Python 3.13 took them up), so titles,
# problem types and the OpenAPI document are the same whichever Python runs the server.
_RFC9110_PHRASES = {
    413: "Content Too Large",
    414: "URI Too Long",
    416: "Range Not Satisfiable",
    422: "Unprocessable Content",
}
# The `type` of a problem with no meaning beyond its status (RFC 9457, section 4.2.1).
UNTYPED_PROBLEM = "about:blank"


def reason_phrase(status: int) -> str:
    return _RFC9110_PHRASES.get(status) or HTTPStatus(status).phrase


def _slug(status: int) -> str:
    return "validation-error" if status == 422 else reason_phrase(status).lower().replace(" ", "-")


def _subclasses(kind: type[DomainError]) -> list[type[DomainError]]:
    return [kind, *(sub for direct in kind.__subclasses__() for sub in _subclasses(direct))]


def status_of(error: DomainError | type[DomainError]) -> int:
    kind = error if isinstance(error, type) else type(error)
    for ancestor in kind.__mro__:
        if ancestor in _STATUSES:
            return _STATUSES[ancestor]
    return 500


_TYPED_STATUSES = sorted({*_STATUSES.values(), *_FRAMEWORK_STATUSES})
# Errors with a type of their own (`DomainError.problem_type`), by that type's slug.
_OWN_TYPES = {
    kind.problem_type: kind for kind in _subclasses(DomainError) if kind.problem_type is not None
}
# Every `type` a problem can have, derived from the statuses answered and the errors that
# name their own, so the list the OpenAPI document gives cannot drift from what is sent.
ProblemType = StrEnum(  # type: ignore[misc]
    "ProblemType",
    {
        **{
            _slug(status).upper().replace("-", "_"): PROBLEM_TYPE_BASE + _slug(status)
            for status in _TYPED_STATUSES
        },
        **{slug.upper().replace("-", "_"): PROBLEM_TYPE_BASE + slug for slug in _OWN_TYPES},
        "UNTYPED": UNTYPED_PROBLEM,
    },
    module=__name__,
)
ProblemType.__doc__ = "\n".join(
    [
        "What went wrong, by the status it is answered with:",
        "",
        *(f"- `{PROBLEM_TYPE_BASE}{_slug(status)}`: {status}" for status in _TYPED_STATUSES),
        *(
            f"- `{PROBLEM_TYPE_BASE}{slug}`: {status_of(kind)}; "
            + " ".join(kind.__doc__.split()).split(". ")[0]
            + "."
            for slug, kind in _OWN_TYPES.items()
            if kind.__doc__
        ),
        f"- `{UNTYPED_PROBLEM}`: any other status, with no meaning beyond it.",
    ]
)


def problem_type(status: int) -> ProblemType:
    """The type of a problem answered with `status`; `about:blank` for a status no handler
    gives a meaning of its own."""
    try:
        return ProblemType(PROBLEM_TYPE_BASE + _slug(status))
    except ValueError:
        return ProblemType(UNTYPED_PROBLEM)


class FieldError(BaseModel):
    """One field that is not valid."""

    loc: list[str | int] = Field(
        description="Where the field is: `body`, `query`, `path` or `header`, then its path.",
        examples=[["body", "tag_ids", 2]],
    )
    msg: str = Field(
        description="What is wrong, for people.", examples=["Input should be a valid UUID"]
    )
    type: str = Field(description="What is wrong, for programs.", examples=["uuid_parsing"])


class Problem(BaseModel):
    """An error, as RFC 9457 problem details. `errors` is present when fields are to blame."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": f"{PROBLEM_TYPE_BASE}validation-error",
                    "title": "Unprocessable Content",
                    "status": 422,
                    "detail": "The request is not valid; see errors.",
                    "errors": [
                        {
                            "loc": ["body", "tag_ids", 2],
                            "msg": "Input should be a valid UUID",
                            "type": "uuid_parsing",
                        }
                    ],
                }
            ]
        }
    )

    type: ProblemType = Field(description="What went wrong, for programs to tell apart.")
    title: str = Field(description="The status's reason phrase.", examples=["Not Found"])
    status: int = Field(description="The HTTP status code.", examples=[404])
    detail: str = Field(description="What happened, for people.", examples=["Not found."])
    errors: list[FieldError] | None = Field(
        default=None, description="The fields to blame; absent when no field is."
    )


def error_type(error: DomainError) -> ProblemType:
    """The type of the problem `error` is answered with: its own, or its status's."""
    if error.problem_type is not None:
        return ProblemType(PROBLEM_TYPE_BASE + error.problem_type)
    return problem_type(status_of(error))


def problem_response(
    status: int,
    detail: str,
    *,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    type: ProblemType | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": (type or problem_type(status)).value,
        "title": reason_phrase(status),
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(
        jsonable_encoder(body), status_code=status, headers=headers, media_type=PROBLEM_CONTENT_TYPE
    )


def domain_error_response(error: DomainError) -> JSONResponse:
    """The problem+json for `error`: fields gain the part of the request they came from."""
    status = status_of(error)
    location = "query" if isinstance(error, InvalidCursor) else "body"
    errors = [
        {"loc": [location, *problem.field], "msg": problem.message, "type": problem.kind}
        for problem in error.problems
    ]
    headers = {}
    if isinstance(error, NotAuthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(error, TooManyAttempts | Unavailable):
        headers["Retry-After"] = str(error.retry_after)
    return problem_response(
        status, error.detail, errors=errors or None, headers=headers, type=error_type(error)
    )


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI declarations of a route's problem responses, for generated clients; their
    content (`Problem`) and headers are filled in by `app.openapi`."""
    return {status: {"description": reason_phrase(status)} for status in statuses}


async def _domain_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    if status_of(exc) == 500:
        return await _unhandled_error_handler(_request, exc)
    return domain_error_response(exc)


async def _validation_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": list(error.get("loc", ())), "msg": error.get("msg", ""), "type": error.get("type")}
        for error in exc.errors()
    ]
    return problem_response(422, "The request is not valid; see errors.", errors=errors)


_UNREADABLE_BODY = [{"loc": ["body"], "msg": "the body cannot be decoded", "type": "body_invalid"}]


async def _http_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:
        # The framework's answer to a body it could not parse (bytes that are not UTF-8,
        # JSON nested past the parser, a broken multipart form): unprocessable, like any
        # other body that does not validate.
        return problem_response(422, "The request body cannot be read.", errors=_UNREADABLE_BODY)
    detail = exc.detail if isinstance(exc.detail, str) else reason_phrase(exc.status_code)
    return problem_response(exc.status_code, detail, headers=getattr(exc, "headers", None))


# Text the database cannot store (NUL, bad encodings): the client's input, not our fault.
_UNSTORABLE_TEXT = {"22021", "22P05"}


async def _database_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError)
    if sqlstate_of(exc) in _UNSTORABLE_TEXT:
        return problem_response(422, "The request holds text the database cannot store.")
    return await _unhandled_error_handler(request, exc)


async def _unhandled_error_handler(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(500, "An unexpected error occurred.")


async def _server_error_handler(request: Request, exc: Exception) -> JSONResponse:
    # Starlette answers this one from its outermost layer, beyond every middleware, so
    # neither the request id nor the hardening headers reach it: they are set here.
    response = await _unhandled_error_handler(request, exc)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    request_id = current_request_id()
    if request_id is not None:
        response.headers[REQUEST_ID_HEADER] = request_id
    return response


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error_handler)
    app.add_exception_handler(RequestValidationError, _validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, _http_error_handler)
    app.add_exception_handler(DBAPIError, _database_error_handler)
    app.add_exception_handler(Exception, _server_error_handler)
