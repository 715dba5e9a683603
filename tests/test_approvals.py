"""Approvals: who submits, decides, withdraws and reopens; what each closes; their events;
reads that say why an entry is closed; and reports by approval."""

from datetime import date
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import User
from tests.closing import close
from tests.factories import Team, auth_headers, make_entry, make_project
from tests.problems import assert_problem
from tests.tracking import at, entries_url, iso

WEEK = {"period_start": "2024-04-22", "period_end": "2024-04-29"}


def url(team: Team, *parts: str) -> str:
    return "/".join([f"/api/v1/workspaces/{team.workspace.id}/approvals", *parts])


async def submit(client: AsyncClient, team: Team, user: User, **body: Any) -> dict[str, Any]:
    response = await client.post(url(team), json=body or WEEK, headers=auth_headers(user))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def act(
    client: AsyncClient, team: Team, user: User, approval: dict[str, Any], action: str, **body: Any
) -> Any:
    return await client.post(
        url(team, approval["id"], action), json=body or None, headers=auth_headers(user)
    )


async def test_a_week_goes_from_submitted_to_approved_with_its_totals(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    project = await make_project(session, team.workspace, is_billable=True, hourly_rate_cents=6000)
    await make_entry(
        session, team.workspace, team.member, start_at=at(9, 1), billable=True,
        project_id=project.id, hourly_rate_cents=6000,
    )  # fmt: skip
    await make_entry(session, team.workspace, team.member, start_at=at(13, 1))
    # Outside the week: on the Sunday before, and on the Monday after.
    await make_entry(session, team.workspace, team.member, start_at=at(23, -1))
    await make_entry(session, team.workspace, team.member, start_at=at(0, 7))

    approval = await submit(client, team, team.member)
    assert approval["state"] == "submitted"
    assert approval["starts_at"] == "2024-04-22T00:00:00Z" and approval["seconds"] is None
    approved = await act(client, team, team.admin, approval, "approve", note="ok")
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert (body["state"], body["note"], body["decided_by_user_id"]) == (
        "approved",
        "ok",
        str(team.admin.id),
    )
    assert (body["seconds"], body["billable_seconds"], body["amount_cents"]) == (7200, 3600, 6000)
    # Members see amounts only where the workspace shows them rates.
    mine = await client.get(url(team, approval["id"]), headers=auth_headers(team.member))
    assert mine.json()["seconds"] == 7200 and mine.json()["amount_cents"] is None


async def test_periods_are_dates_in_the_persons_timezone(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    team.member.timezone = "America/New_York"
    await session.flush()
    approval = await submit(client, team, team.member)
    assert approval["timezone"] == "America/New_York"
    assert (approval["starts_at"], approval["ends_at"]) == (
        "2024-04-22T04:00:00Z",
        "2024-04-29T04:00:00Z",
    )
    # 02:00 UTC on the Monday is still Sunday evening in New York: open.
    before = await make_entry(session, team.workspace, team.member, start_at=at(2))
    inside = await make_entry(session, team.workspace, team.member, start_at=at(5))
    headers = auth_headers(team.member)
    for entry, status in ((before, 200), (inside, 409)):
        response = await client.patch(
            f"{entries_url(team.workspace)}/{entry.id}", json={"description": "x"}, headers=headers
        )
        assert response.status_code == status, response.text


async def test_who_may_do_what(client: AsyncClient, session: AsyncSession, team: Team) -> None:
    approval = await submit(client, team, team.member)
    # Members neither decide nor reopen; nobody withdraws another's period.
    assert_problem(await act(client, team, team.member, approval, "approve"), 403)
    assert_problem(await act(client, team, team.admin, approval, "withdraw"), 403)
    assert_problem(await act(client, team, team.outsider, approval, "approve"), 404)
    # An admin's own period is decided by another admin or the owner; the owner decides theirs.
    own = await submit(client, team, team.admin)
    assert_problem(await act(client, team, team.admin, own, "approve"), 403)
    assert (await act(client, team, team.owner, own, "approve")).status_code == 200
    owners = await submit(client, team, team.owner)
    assert (await act(client, team, team.owner, owners, "approve")).status_code == 200
    # A rejection needs a note.
    assert_problem(await act(client, team, team.admin, approval, "reject"), 422)
    rejected = await act(client, team, team.admin, approval, "reject", note="Tuesday is empty")
    assert rejected.json()["state"] == "rejected"
    # Decided: no second decision, no withdrawal; a rejected one is not reopened.
    assert_problem(await act(client, team, team.owner, approval, "approve"), 409)
    assert_problem(await act(client, team, team.member, approval, "withdraw"), 409)
    assert_problem(await act(client, team, team.admin, approval, "reopen"), 409)
    # Members see their own approvals, admins everyone's.
    listed = await client.get(url(team), headers=auth_headers(team.member))
    assert [item["id"] for item in listed.json()["items"]] == [approval["id"]]
    assert_problem(await client.get(url(team, own["id"]), headers=auth_headers(team.member)), 404)
    everyone = await client.get(url(team), headers=auth_headers(team.admin))
    assert len(everyone.json()["items"]) == 3
    filtered = await client.get(
        url(team),
        params={"state": "approved", "user_id": str(team.admin.id)},
        headers=auth_headers(team.owner),
    )
    assert [item["id"] for item in filtered.json()["items"]] == [own["id"]]
    later = await client.get(
        url(team), params={"period_from": "2024-04-29"}, headers=auth_headers(team.owner)
    )
    assert later.json()["items"] == []


async def test_periods_of_one_person_never_overlap(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    approval = await submit(client, team, team.member)
    overlapping = {"period_start": "2024-04-28", "period_end": "2024-05-05"}
    response = await client.post(url(team), json=overlapping, headers=auth_headers(team.member))
    assert_problem(response, 409)
    assert approval["id"] in response.json()["detail"]
    # Touching is fine, and so is someone else's same week.
    await submit(client, team, team.member, period_start="2024-04-29", period_end="2024-05-06")
    await submit(client, team, team.admin)
    # Withdrawn, the week is free again.
    assert (await act(client, team, team.member, approval, "withdraw")).status_code == 200
    await submit(client, team, team.member)


@pytest.mark.parametrize(
    "body",
    [
        {"period_start": "2024-04-29", "period_end": "2024-04-22"},
        {"period_start": "2024-04-22", "period_end": "2024-04-22"},
        {"period_start": "2023-01-01", "period_end": "2024-04-22"},
        {"period_start": "2024-04-22"},
        {"period_start": "2024-04-22", "period_end": "2024-04-29", "state": "approved"},
    ],
)
async def test_bad_periods_are_422(client: AsyncClient, team: Team, body: dict[str, Any]) -> None:
    response = await client.post(url(team), json=body, headers=auth_headers(team.member))
    assert_problem(response, 422)


async def test_a_running_entry_keeps_its_period_from_being_submitted(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    running = await make_entry(session, team.workspace, team.member, start_at=at(9), end_at=None)
    response = await client.post(url(team), json=WEEK, headers=auth_headers(team.member))
    assert_problem(response, 409)
    assert str(running.id) in response.json()["detail"]


async def test_reopening_opens_the_time_and_keeps_the_totals(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    entry = await make_entry(session, team.workspace, team.member, start_at=at(9, 1))
    approval = await submit(client, team, team.member)
    await act(client, team, team.admin, approval, "approve")
    edit = f"{entries_url(team.workspace)}/{entry.id}"
    refused = await client.patch(
        edit, json={"end_at": iso(11, 1)}, headers=auth_headers(team.owner)
    )
    assert refused.json()["type"] == "urn:timesheet:problem:period-locked"
    assert_problem(await act(client, team, team.member, approval, "reopen"), 403)
    reopened = await act(client, team, team.admin, approval, "reopen", note="fix Tuesday")
    assert reopened.json()["state"] == "reopened" and reopened.json()["seconds"] == 3600
    changed = await client.patch(
        edit, json={"end_at": iso(11, 1)}, headers=auth_headers(team.member)
    )
    assert changed.status_code == 200, changed.text
    # The approval still says what was approved; a report on the week says what is there now.
    report = await client.get(
        f"/api/v1/workspaces/{team.workspace.id}/reports/summary",
        params={"group_by": "approval", "from": "2024-04-22", "to": "2024-04-29"},
        headers=auth_headers(team.admin),
    )
    assert report.json()["totals"]["seconds"] == 7200


async def test_events_for_every_move_and_for_lock_changes(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    first = await submit(client, team, team.member)
    await act(client, team, team.admin, first, "reject", note="no")
    second = await submit(client, team, team.member)
    await act(client, team, team.member, second, "withdraw")
    third = await submit(client, team, team.member)
    await act(client, team, team.owner, third, "approve")
    await act(client, team, team.admin, third, "reopen")
    workspace_url = f"/api/v1/workspaces/{team.workspace.id}"
    for value in ("2024-05-01T00:00:00Z", "2024-04-01T00:00:00Z", None):
        response = await client.patch(
            workspace_url, json={"locked_before": value}, headers=auth_headers(team.owner)
        )
        assert response.status_code == 200, response.text
        assert response.json()["locked_before"] == value

    events = await client.get(
        f"{workspace_url}/events",
        params={"order": "sequence", "type": ["approval.*", "workspace.updated"]},
        headers=auth_headers(team.admin),
    )
    found = [
        (event["type"], event["actor_id"], event["data"].get("previous"))
        for event in events.json()["items"]
    ]
    member, admin, owner = (str(team.member.id), str(team.admin.id), str(team.owner.id))
    assert [(kind, actor) for kind, actor, _ in found] == [
        ("approval.submitted", member),
        ("approval.rejected", admin),
        ("approval.submitted", member),
        ("approval.withdrawn", member),
        ("approval.submitted", member),
        ("approval.approved", owner),
        ("approval.reopened", admin),
        ("workspace.updated", owner),
        ("workspace.updated", owner),
        ("workspace.updated", owner),
    ]
    assert found[1][2]["state"] == "submitted"
    assert [previous["locked_before"] for _, _, previous in found[-3:]] == [
        None,
        "2024-05-01T00:00:00Z",
        "2024-04-01T00:00:00Z",
    ]
    # Members read the events of their own approvals, not of others'.
    mine = await client.get(
        f"{workspace_url}/events", params={"type": "approval.*"}, headers=auth_headers(team.member)
    )
    assert len(mine.json()["items"]) == 7
    await submit(client, team, team.admin)
    theirs = await client.get(
        f"{workspace_url}/events", params={"type": "approval.*"}, headers=auth_headers(team.member)
    )
    assert len(theirs.json()["items"]) == 7


async def test_locked_before_is_set_by_admins_and_never_closes_a_running_entry(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    workspace_url = f"/api/v1/workspaces/{team.workspace.id}"
    body = {"locked_before": "2024-04-29T00:00:00Z"}
    assert_problem(
        await client.patch(workspace_url, json=body, headers=auth_headers(team.member)), 403
    )
    running = await make_entry(session, team.workspace, team.member, start_at=at(9), end_at=None)
    response = await client.patch(workspace_url, json=body, headers=auth_headers(team.admin))
    assert_problem(response, 409)
    assert str(running.id) in response.json()["detail"]
    # Before the running entry's start, time closes.
    earlier = {"locked_before": "2024-04-22T09:00:00Z"}
    response = await client.patch(workspace_url, json=earlier, headers=auth_headers(team.admin))
    assert response.status_code == 200, response.text
    assert response.json()["locked_before"] == "2024-04-22T09:00:00Z"


async def test_reads_say_whether_and_why_an_entry_is_closed(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    await close(session, team.workspace, team.member, "approved")
    await close(
        session,
        team.workspace,
        team.admin,
        "submitted",
        period=(date(2024, 4, 22), date(2024, 4, 29)),
    )
    team.workspace.locked_before = at(0, -7)
    closed_period = await make_entry(session, team.workspace, team.member, start_at=at(9, -8))
    approved = await make_entry(session, team.workspace, team.member, start_at=at(9, 1))
    submitted = await make_entry(session, team.workspace, team.admin, start_at=at(9, 1))
    open_ = await make_entry(session, team.workspace, team.member, start_at=at(9, 8))
    expected = {
        closed_period.id: "closed_period",
        approved.id: "approved",
        submitted.id: "submitted",
        open_.id: None,
    }
    listed = await client.get(entries_url(team.workspace), headers=auth_headers(team.owner))
    reads = {item["id"]: (item["locked"], item["locked_reason"]) for item in listed.json()["items"]}
    assert reads == {str(k): (v is not None, v) for k, v in expected.items()}
    one = await client.get(
        f"{entries_url(team.workspace)}/{submitted.id}", headers=auth_headers(team.admin)
    )
    assert (one.json()["locked"], one.json()["locked_reason"]) == (True, "submitted")
    # A write answers with the same: the owner corrects the admin's submitted entry.
    corrected = await client.patch(
        f"{entries_url(team.workspace)}/{submitted.id}",
        json={"description": "fixed"},
        headers=auth_headers(team.owner),
    )
    assert (corrected.json()["locked"], corrected.json()["locked_reason"]) == (True, "submitted")
    # Filters: by approval state and by closed or not.
    for params, ids in (
        ({"approval": "approved"}, {approved.id}),
        ({"approval": "submitted"}, {submitted.id}),
        ({"approval": "open"}, {closed_period.id, open_.id}),
        ({"locked": "true"}, {closed_period.id, approved.id, submitted.id}),
        ({"locked": "false"}, {open_.id}),
    ):
        found = await client.get(
            entries_url(team.workspace), params=params, headers=auth_headers(team.owner)
        )
        assert {item["id"] for item in found.json()["items"]} == {str(i) for i in ids}, params


async def test_reports_and_exports_filter_and_group_by_approval(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    await close(session, team.workspace, team.member, "approved")
    await close(session, team.workspace, team.admin, "submitted")
    await make_entry(session, team.workspace, team.member, start_at=at(9, 1))
    await make_entry(session, team.workspace, team.admin, start_at=at(9, 2))
    await make_entry(session, team.workspace, team.admin, start_at=at(12, 2))
    await make_entry(session, team.workspace, team.owner, start_at=at(9, 3))
    reports = f"/api/v1/workspaces/{team.workspace.id}/reports/summary"
    headers = auth_headers(team.owner)
    grouped = await client.get(
        reports, params={"group_by": "approval", "sub_group_by": "user"}, headers=headers
    )
    assert grouped.status_code == 200, grouped.text
    groups = [
        (g["key"], g["label"], g["seconds"], len(g["groups"])) for g in grouped.json()["groups"]
    ]
    assert groups == [
        ("approved", "Approved", 3600, 1),
        ("submitted", "Submitted", 7200, 1),
        ("open", "Open", 3600, 1),
    ]
    by_user = await client.get(
        reports, params={"group_by": "user", "sub_group_by": "approval"}, headers=headers
    )
    assert by_user.status_code == 200, by_user.text
    for params, seconds in (
        ({"approval": "submitted"}, 7200),
        ({"approval": "open"}, 3600),
        ({"locked": "true"}, 10800),
        ({"locked": "false"}, 3600),
    ):
        filtered = await client.get(reports, params={"group_by": "user", **params}, headers=headers)
        assert filtered.json()["totals"]["seconds"] == seconds, params
    exported = await client.get(
        f"{entries_url(team.workspace)}/export",
        params={"format": "json", "approval": "approved"},
        headers=headers,
    )
    assert exported.status_code == 200, exported.text
    assert [row["user_email"] for row in exported.json()] == [team.member.email]
    # A member's report covers their own time only, approval groups included.
    mine = await client.get(
        reports, params={"group_by": "approval"}, headers=auth_headers(team.member)
    )
    assert [(g["key"], g["seconds"]) for g in mine.json()["groups"]] == [("approved", 3600)]
