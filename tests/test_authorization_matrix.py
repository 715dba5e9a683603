"""Every role against every workspace, member and invitation endpoint.

Outsiders get 404 for anything inside a workspace (no existence leaks), members lacking a
permission 403, anonymous callers 401.
"""

from dataclasses import dataclass
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.problems import PROBLEM_CONTENT_TYPE
from app.enums import Role
from tests.factories import Team, auth_headers, make_invitation, make_membership, make_user

ROLES = ("owner", "admin", "member", "outsider", "anonymous")


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: dict[str, Any] | None = None


# Paths and bodies name `{workspace}`, `{colleague}` (another plain member), `{admin}`,
# `{owner}`, `{self}` (the caller), `{newcomer}` (an account in no workspace yet) and
# `{invitation}` (a pending invitation of the workspace, to someone else).
MATRIX: dict[str, tuple[Call, tuple[int, int, int, int, int]]] = {
    "list workspaces": (Call("GET", "/workspaces"), (200, 200, 200, 200, 401)),
    "create workspace": (Call("POST", "/workspaces", {"name": "New"}), (201, 201, 201, 201, 401)),
    "get workspace": (Call("GET", "/workspaces/{workspace}"), (200, 200, 200, 404, 401)),
    "update workspace": (
        Call("PATCH", "/workspaces/{workspace}", {"name": "Renamed"}),
        (200, 200, 403, 404, 401),
    ),
    "delete workspace": (Call("DELETE", "/workspaces/{workspace}"), (204, 403, 403, 404, 401)),
    "transfer ownership": (
        Call("POST", "/workspaces/{workspace}/transfer-ownership", {"user_id": "{admin}"}),
        (200, 403, 403, 404, 401),
    ),
    "list members": (
        Call("GET", "/workspaces/{workspace}/members"),
        (200, 200, 200, 404, 401),
    ),
    "get member": (
        Call("GET", "/workspaces/{workspace}/members/{colleague}"),
        (200, 200, 200, 404, 401),
    ),
    "invite": (
        Call("POST", "/workspaces/{workspace}/invitations", {"email": "{newcomer}"}),
        (201, 201, 403, 404, 401),
    ),
    "invite an owner": (
        Call(
            "POST", "/workspaces/{workspace}/invitations", {"email": "{newcomer}", "role": "owner"}
        ),
        (422, 403, 403, 404, 401),
    ),
    "list invitations": (
        Call("GET", "/workspaces/{workspace}/invitations"),
        (200, 200, 403, 404, 401),
    ),
    "revoke invitation": (
        Call("DELETE", "/workspaces/{workspace}/invitations/{invitation}"),
        (204, 204, 403, 404, 401),
    ),
    "change member rate": (
        Call("PATCH", "/workspaces/{workspace}/members/{colleague}", {"hourly_rate_cents": 100}),
        (200, 200, 403, 404, 401),
    ),
    "promote member to admin": (
        Call("PATCH", "/workspaces/{workspace}/members/{colleague}", {"role": "admin"}),
        (200, 200, 403, 404, 401),
    ),
    "change own rate": (
        Call("PATCH", "/workspaces/{workspace}/members/{self}", {"hourly_rate_cents": 100}),
        (200, 200, 403, 404, 401),
    ),
    "demote the owner": (
        Call("PATCH", "/workspaces/{workspace}/members/{owner}", {"role": "member"}),
        (409, 403, 403, 404, 401),
    ),
    "remove member": (
        Call("DELETE", "/workspaces/{workspace}/members/{colleague}"),
        (204, 204, 403, 404, 401),
    ),
    "remove admin": (
        Call("DELETE", "/workspaces/{workspace}/members/{admin}"),
        (204, 204, 403, 404, 401),
    ),
    "remove the owner": (
        Call("DELETE", "/workspaces/{workspace}/members/{owner}"),
        (409, 403, 403, 404, 401),
    ),
    "leave": (
        Call("DELETE", "/workspaces/{workspace}/members/{self}"),
        (409, 204, 204, 404, 401),
    ),
}

CASES = [
    pytest.param(name, role, statuses[index], id=f"{name}-{role}")
    for name, (_, statuses) in MATRIX.items()
    for index, role in enumerate(ROLES)
]


def _fill(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        for key, replacement in names.items():
            value = value.replace(f"{{{key}}}", replacement)
        return value
    if isinstance(value, dict):
        return {key: _fill(item, names) for key, item in value.items()}
    return value


@pytest.mark.parametrize(("endpoint", "role", "expected"), CASES)
async def test_authorization_matrix(
    client: AsyncClient, session: AsyncSession, team: Team, endpoint: str, role: str, expected: int
) -> None:
    colleague = await make_user(session)
    await make_membership(session, team.workspace, colleague, role=Role.MEMBER)
    newcomer = await make_user(session)
    invitation = await make_invitation(session, team.workspace, "invited@example.com")
    caller = None if role == "anonymous" else team.by_role(role)
    names = {
        "workspace": str(team.workspace.id),
        "colleague": str(colleague.id),
        "admin": str(team.admin.id),
        "owner": str(team.owner.id),
        "self": str((caller or team.member).id),
        "newcomer": newcomer.email,
        "invitation": str(invitation.id),
    }
    call, _ = MATRIX[endpoint]
    response = await client.request(
        call.method,
        "/api/v1" + _fill(call.path, names),
        json=_fill(call.body, names),
        headers=auth_headers(caller) if caller else {},
    )
    assert response.status_code == expected, response.text
    if expected >= 400:
        assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
