"""Assertions on RFC 9457 problem responses."""

from httpx import Response

from app.api.problems import PROBLEM_CONTENT_TYPE, ProblemType


def assert_problem(response: Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    # A type the OpenAPI document does not list would break generated clients.
    assert body["type"] in set(ProblemType), body["type"]
