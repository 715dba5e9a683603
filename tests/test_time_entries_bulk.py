"""Bulk changes and deletions: one result per id, and a refusal spoils no other id."""

import uuid

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.types import utcnow
from tests.factories import Team, auth_headers, make_entry, make_project, make_tag
from tests.tracking import at, entries_url, iso


async def test_bulk_update_gives_each_id_its_result(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    team.workspace.prevent_overlaps = True
    project = await make_project(session, team.workspace, is_billable=True)
    archived = await make_project(session, team.workspace, archived_at=utcnow())
    tag = await make_tag(session, team.workspace)
    first = await make_entry(session, team.workspace, team.member, start_at=at(9), end_at=at(10))
    second = await make_entry(session, team.workspace, team.member, start_at=at(9, 1))
    short = await make_entry(session, team.workspace, team.member, start_at=at(7), end_at=at(7.5))
    deleted = await make_entry(session, team.workspace, team.member, deleted_at=utcnow())
    someone_elses = await make_entry(session, team.workspace, team.admin)
    foreign = await make_entry(session, team.other_workspace, team.outsider)
    unknown = uuid.uuid4()
    ids = [first.id, second.id, short.id, deleted.id, someone_elses.id, foreign.id, unknown]
    url = entries_url(team.workspace)
    headers = auth_headers(team.member)

    # Ending at 08:00 suits `short` (07:00-07:30) but not `first` and `second`, which start later.
    body = {
        "ids": [str(i) for i in [*ids, first.id]],
        "changes": {"end_at": iso(8), "project_id": str(project.id), "tag_ids": [str(tag.id)]},
    }
    response = await client.patch(url, json=body, headers=headers)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [result["id"] for result in results] == [str(i) for i in ids]
    statuses = {result["id"]: result["status"] for result in results}
    assert statuses == {
        str(first.id): 422,
        str(second.id): 422,
        str(short.id): 200,
        str(deleted.id): 404,
        str(someone_elses.id): 404,
        str(foreign.id): 404,
        str(unknown): 404,
    }
    done = next(result for result in results if result["status"] == 200)
    assert done["entry"]["end_at"] == "2024-04-22T08:00:00Z"
    assert done["entry"]["project_id"] == str(project.id)
    assert done["entry"]["tag_ids"] == [str(tag.id)]
    assert done["entry"]["hourly_rate_cents"] is None  # hidden from members
    assert done["entry"]["version"] == 2
    refused = next(result for result in results if result["status"] == 422)
    assert refused["entry"] is None and "end_at" in refused["detail"]

    # The refused entries were left exactly as they were.
    check = await client.get(f"{url}/{first.id}", headers=headers)
    assert check.json()["version"] == 1 and check.json()["project_id"] is None

    overlapping = {
        "ids": [str(first.id), str(second.id)],
        "changes": {"start_at": iso(7.25, 1), "end_at": iso(7.75, 1)},
    }
    results = (await client.patch(url, json=overlapping, headers=headers)).json()["results"]
    # The first takes the slot; the second would overlap it.
    assert [result["status"] for result in results] == [200, 409]
    assert str(first.id) in results[1]["detail"]

    to_archived = {"ids": [str(second.id)], "changes": {"project_id": str(archived.id)}}
    results = (await client.patch(url, json=to_archived, headers=headers)).json()["results"]
    assert results[0]["status"] == 409

    handed_over = {"ids": [str(second.id)], "changes": {"user_id": str(team.admin.id)}}
    results = (await client.patch(url, json=handed_over, headers=headers)).json()["results"]
    assert results[0]["status"] == 403


async def test_admins_bulk_update_everyones_entries(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    team.workspace.default_hourly_rate_cents = 2500
    entries = [
        await make_entry(session, team.workspace, user, start_at=at(9, day))
        for day, user in enumerate([team.member, team.admin, team.owner])
    ]
    body = {"ids": [str(entry.id) for entry in entries], "changes": {"billable": True}}
    response = await client.patch(
        entries_url(team.workspace), json=body, headers=auth_headers(team.admin)
    )
    results = response.json()["results"]
    assert [result["status"] for result in results] == [200, 200, 200]
    assert {result["entry"]["hourly_rate_cents"] for result in results} == {2500}


async def test_bulk_requests_are_bounded(client: AsyncClient, team: Team) -> None:
    url = entries_url(team.workspace)
    headers = auth_headers(team.member)
    too_many = [str(uuid.uuid4()) for _ in range(201)]
    for body in [{"ids": [], "changes": {}}, {"ids": too_many, "changes": {}}]:
        response = await client.patch(url, json=body, headers=headers)
        assert response.status_code == 422
        assert response.json()["errors"][0]["loc"] == ["body", "ids"]
    invalid_change = {"ids": [str(uuid.uuid4())], "changes": {"start_at": "2024-04-22T09:00:00"}}
    response = await client.patch(url, json=invalid_change, headers=headers)
    assert response.json()["errors"][0]["loc"] == ["body", "changes", "start_at"]
    assert (await client.delete(url, params={"ids": too_many}, headers=headers)).status_code == 422
    assert (await client.delete(url, headers=headers)).status_code == 422


async def test_bulk_delete_gives_each_id_its_result(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    mine = [
        await make_entry(session, team.workspace, team.member, start_at=at(9, d)) for d in range(3)
    ]
    theirs = await make_entry(session, team.workspace, team.admin)
    foreign = await make_entry(session, team.other_workspace, team.outsider)
    url = entries_url(team.workspace)
    headers = auth_headers(team.member)
    ids = [mine[0].id, mine[1].id, theirs.id, foreign.id, mine[0].id]

    response = await client.delete(url, params={"ids": [str(i) for i in ids]}, headers=headers)
    assert response.status_code == 200
    assert [(result["id"], result["status"]) for result in response.json()["results"]] == [
        (str(mine[0].id), 204),
        (str(mine[1].id), 204),
        (str(theirs.id), 404),
        (str(foreign.id), 404),
    ]
    assert await listed(client, url, headers) == [str(mine[2].id)]
    again = await client.delete(url, params={"ids": [str(mine[0].id)]}, headers=headers)
    assert again.json()["results"][0]["status"] == 404
    admin_view = await listed(client, url, auth_headers(team.admin))
    assert str(theirs.id) in admin_view


async def listed(client: AsyncClient, url: str, headers: dict[str, str]) -> list[str]:
    return [item["id"] for item in (await client.get(url, headers=headers)).json()["items"]]
