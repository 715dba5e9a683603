"""Shared report links: a secret shown once and stored hashed, live data with the sharer's
rights, amounts only when chosen and allowed, and 404 alike for unknown, expired or revoked
links, within a limit per client address."""

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Membership, ReportShare
from app.db.types import utcnow
from tests.factories import Team, auth_headers, make_entry, make_project
from tests.problems import assert_problem

START = datetime(2026, 11, 23, 8, tzinfo=UTC)
SUMMARY = {"group_by": "project", "from": "2026-11-23", "to": "2026-11-30", "tz": "UTC"}


def shares_url(team: Team) -> str:
    return f"/api/v1/workspaces/{team.workspace.id}/reports/shares"


async def share(client: AsyncClient, team: Team, user: Any, **body: Any) -> dict[str, Any]:
    body.setdefault("report", "summary")
    body.setdefault("params", SUMMARY)
    response = await client.post(shares_url(team), json=body, headers=auth_headers(user))
    assert response.status_code == 201, response.text
    return response.json()


async def work(session: AsyncSession, team: Team) -> None:
    """The admin: 2 h billable at 50.00; the member: 1 h billable at 50.00."""
    site = await make_project(session, team.workspace, name="Site")
    for user, hours in ((team.admin, 2), (team.member, 1)):
        await make_entry(
            session,
            team.workspace,
            user,
            project_id=site.id,
            start_at=START,
            end_at=START + timedelta(hours=hours),
            billable=True,
            hourly_rate_cents=5000,
        )


async def test_a_shared_summary_reads_live_without_an_account(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    await work(session, team)
    made = await share(client, team, team.admin, show_amounts=True)
    secret = made["secret"]
    assert made["url"] == f"/api/v1/shared-reports/{secret}"
    stored = (await session.scalars(select(ReportShare))).one()
    assert stored.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(stored.params)

    opened = await client.get(made["url"])
    assert opened.status_code == 200, opened.text
    assert opened.headers["cache-control"] == "no-store"
    own = await client.get(
        f"/api/v1/workspaces/{team.workspace.id}/reports/summary",
        params=SUMMARY,
        headers=auth_headers(team.admin),
    )
    assert opened.json() == own.json()
    assert opened.json()["totals"] == {
        "seconds": 10800,
        "billable_seconds": 10800,
        "amount_cents": 15000,
    }
    # Live: an entry added afterwards shows at the next visit.
    await make_entry(session, team.workspace, team.owner, start_at=START + timedelta(days=1))
    assert (await client.get(made["url"])).json()["totals"]["seconds"] == 14400

    pdf = await client.get(made["url"] + ".pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    xlsx = await client.get(made["url"] + ".xlsx")
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert xlsx.content.startswith(b"PK")

    listed = (await client.get(shares_url(team), headers=auth_headers(team.owner))).json()
    assert [item["id"] for item in listed["items"]] == [made["id"]]
    assert "secret" not in listed["items"][0]
    assert listed["items"][0]["params"] == SUMMARY


async def test_amounts_show_only_when_chosen_and_allowed(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    await work(session, team)
    without = await share(client, team, team.admin, show_amounts=False)
    totals = (await client.get(without["url"])).json()["totals"]
    assert totals["amount_cents"] is None and totals["seconds"] == 10800
    weekly = await share(
        client, team, team.admin, report="weekly", params={"week": "2026-W48", "tz": "UTC"}
    )
    sheet = (await client.get(weekly["url"])).json()
    assert sheet["amount_cents"] is None
    assert all(line["amount_cents"] is None for line in sheet["lines"])

    # A member of a workspace that hides rates cannot share amounts, and their link shows
    # their own time only.
    refused = await client.post(
        shares_url(team),
        json={"report": "summary", "params": SUMMARY, "show_amounts": True},
        headers=auth_headers(team.member),
    )
    assert_problem(refused, 403)
    mine = await share(client, team, team.member)
    assert (await client.get(mine["url"])).json()["totals"]["seconds"] == 3600
    detailed = await share(client, team, team.member, report="detailed", params={"tz": "UTC"})
    groups = (await client.get(detailed["url"])).json()["groups"]
    assert [entry["seconds"] for group in groups for entry in group["entries"]] == [3600]

    # Rates the sharer no longer sees are hidden from their links too.
    team.workspace.members_can_see_rates = True
    await session.flush()
    chosen = await share(client, team, team.member, show_amounts=True)
    assert (await client.get(chosen["url"])).json()["totals"]["amount_cents"] == 5000
    team.workspace.members_can_see_rates = False
    await session.flush()
    assert (await client.get(chosen["url"])).json()["totals"]["amount_cents"] is None


async def test_unknown_expired_revoked_and_orphaned_links_are_404_alike(
    client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    await work(session, team)
    assert_problem(await client.get("/api/v1/shared-reports/tsr_unknown"), 404)
    assert_problem(await client.get("/api/v1/shared-reports/tsr_unknown.pdf"), 404)

    expiring = await share(
        client, team, team.admin, expires_at=(utcnow() + timedelta(hours=1)).isoformat()
    )
    assert (await client.get(expiring["url"])).status_code == 200
    await session.execute(
        update(ReportShare)
        .where(ReportShare.id == uuid.UUID(expiring["id"]))
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    expired = await client.get(expiring["url"])
    assert_problem(expired, 404)
    assert expired.json()["detail"] == "Shared report not found."

    revoked = await share(client, team, team.admin)
    # Members neither see nor revoke the admin's links.
    assert (await client.get(shares_url(team), headers=auth_headers(team.member))).json()[
        "items"
    ] == []
    member_revoke = await client.delete(
        f"{shares_url(team)}/{revoked['id']}", headers=auth_headers(team.member)
    )
    assert_problem(member_revoke, 404)
    stale = await client.delete(
        f"{shares_url(team)}/{revoked['id']}",
        headers={**auth_headers(team.owner), "If-Match": '"7"'},
    )
    assert_problem(stale, 412)
    gone = await client.delete(
        f"{shares_url(team)}/{revoked['id']}", headers=auth_headers(team.owner)
    )
    assert gone.status_code == 204
    assert_problem(await client.get(revoked["url"] + ".xlsx"), 404)
    listed = (await client.get(shares_url(team), headers=auth_headers(team.admin))).json()
    assert revoked["id"] not in [item["id"] for item in listed["items"]]

    # The sharer leaves the workspace: their links stop.
    orphaned = await share(client, team, team.member)
    await session.execute(delete(Membership).where(Membership.user_id == team.member.id))
    assert_problem(await client.get(orphaned["url"]), 404)


async def test_what_a_share_may_hold(client: AsyncClient, team: Team) -> None:
    headers = auth_headers(team.admin)
    for body, loc in (
        ({"report": "summary", "params": {}}, ["body", "params", "group_by"]),
        ({"report": "summary", "params": {"group_by": "colour"}}, ["body", "params", "group_by"]),
        ({"report": "weekly", "params": {"week": "soon"}}, ["body", "params", "week"]),
        ({"report": "invoice", "params": {}}, ["body", "report"]),
        (
            {"report": "detailed", "expires_at": "2020-01-01T00:00:00Z"},
            ["body", "expires_at"],
        ),
        ({"report": "detailed", "secret": "mine"}, ["body", "secret"]),
    ):
        response = await client.post(shares_url(team), json=body, headers=headers)
        assert_problem(response, 422)
        assert loc in [error["loc"] for error in response.json()["errors"]], response.json()
    outsider = await client.post(
        shares_url(team), json={"report": "detailed"}, headers=auth_headers(team.outsider)
    )
    assert_problem(outsider, 404)


async def test_visits_are_limited_per_address(
    app: FastAPI, client: AsyncClient, session: AsyncSession, team: Team
) -> None:
    app.state.settings = app.state.settings.model_copy(update={"shared_report_max_per_address": 3})
    made = await share(client, team, team.admin)
    for _ in range(2):
        assert (await client.get(made["url"])).status_code == 200
    # Guesses count as much as visits: the fourth answer is a 429, even for a real link.
    assert_problem(await client.get("/api/v1/shared-reports/tsr_guess"), 404)
    limited = await client.get(made["url"])
    assert_problem(limited, 429)
    assert int(limited.headers["retry-after"]) >= 1
