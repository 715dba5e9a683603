"""Shared by the report tests: the summary's URL and a successful request for it."""

from typing import Any

from httpx import AsyncClient

from app.db.models import User, Workspace
from tests.factories import Team, auth_headers


def summary_url(workspace: Workspace) -> str:
    return f"/api/v1/workspaces/{workspace.id}/reports/summary"


async def summary(client: AsyncClient, team: Team, user: User, **params: Any) -> dict[str, Any]:
    response = await client.get(
        summary_url(team.workspace), params=params, headers=auth_headers(user)
    )
    assert response.status_code == 200, response.text
    return response.json()
