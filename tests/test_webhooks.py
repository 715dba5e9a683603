"""Webhooks: set up by admins, delivered from the outbox to a real receiver, signed as
Standard Webhooks, retried, disabled, and never sent where they must not go."""

import io
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks.webhooks import Webhook as Verifier
from standardwebhooks.webhooks import WebhookVerificationError

from app.config import Environment, Settings
from app.db.engine import Sessions
from app.db.models import Webhook, WebhookDelivery
from app.db.types import utcnow
from app.dispatcher import FAILING_LIMIT, RETRY_DELAYS, Dispatcher, retry_delay
from app.enums import DeliveryStatus
from app.repositories.webhooks import DeliveryQueue
from tests.factories import Team, auth_headers
from tests.importing import finished_run
from tests.receivers import Answer, Receiver, receiving
from tests.tracking import entries_url, iso, timer_url


def webhooks_url(team: Team) -> str:
    return f"/api/v1/workspaces/{team.workspace.id}/webhooks"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as receiver:
        yield receiver


@pytest.fixture
async def dispatcher(sessions: Sessions, settings: Settings) -> AsyncIterator[Dispatcher]:
    # One delivery at a time: the test's requests and the dispatcher share one connection.
    async with Dispatcher(sessions, settings, concurrency=1) as dispatcher:
        yield dispatcher


async def add_webhook(
    client: AsyncClient, team: Team, url: str, event_types: list[str], by: Any = None
) -> dict[str, Any]:
    response = await client.post(
        webhooks_url(team),
        json={"url": url, "event_types": event_types},
        headers=auth_headers(by or team.admin),
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def deliveries_of(client: AsyncClient, team: Team, webhook: dict[str, Any]) -> list[Any]:
    response = await client.get(
        f"{webhooks_url(team)}/{webhook['id']}/deliveries",
        params={"limit": 200},
        headers=auth_headers(team.owner),
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def add_client(client: AsyncClient, team: Team, name: str = "Acme") -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/workspaces/{team.workspace.id}/clients",
        json={"name": name},
        headers=auth_headers(team.admin),
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def add_entry(client: AsyncClient, team: Team, hour: int, by: Any = None) -> dict[str, Any]:
    response = await client.post(
        entries_url(team.workspace),
        json={"start_at": iso(hour), "end_at": iso(hour + 1)},
        headers=auth_headers(by or team.member),
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def make_due(session: AsyncSession) -> None:
    """Bring every retry forward to now, as if its wait were over."""
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.status == DeliveryStatus.PENDING)
        .values(next_attempt_at=utcnow())
    )


async def drain(dispatcher: Dispatcher) -> int:
    """Send what is due, one round after the other; how many were sent."""
    sent = 0
    while claimed := await dispatcher.run_once():
        sent += claimed
    return sent


def verified(webhook: dict[str, Any], request: Any) -> Any:
    return Verifier(webhook["secret"]).verify(request.body, request.headers)


# Setting up


async def test_the_secret_shows_on_create_and_rotate_and_nowhere_else(
    client: AsyncClient, team: Team, receiver: Receiver
) -> None:
    created = await add_webhook(client, team, receiver.url, ["time_entry.*"])
    assert created["secret"].startswith("whsec_")
    assert created["created_by_user_id"] == str(team.admin.id)
    assert created["enabled"] is True
    headers = auth_headers(team.admin)
    url = f"{webhooks_url(team)}/{created['id']}"
    read = await client.get(url, headers=headers)
    assert read.status_code == 200
    assert "secret" not in read.json()
    assert read.headers["ETag"] == '"1"'
    listed = await client.get(webhooks_url(team), headers=headers)
    assert [item["id"] for item in listed.json()["items"]] == [created["id"]]
    assert "secret" not in listed.json()["items"][0]

    rotated = await client.post(f"{url}/rotate-secret", headers=headers)
    assert rotated.status_code == 200, rotated.text
    assert rotated.headers["Cache-Control"] == "no-store"
    assert rotated.json()["secret"].startswith("whsec_")
    assert rotated.json()["secret"] != created["secret"]

    events = await client.get(
        f"/api/v1/workspaces/{team.workspace.id}/events",
        params={"type": "webhook.*", "order": "sequence"},
        headers=headers,
    )
    found = events.json()["items"]
    assert [event["type"] for event in found] == ["webhook.created"]
    assert found[0]["data"]["object"]["url"] == receiver.url
    assert created["secret"] not in events.text and rotated.json()["secret"] not in events.text
    assert "failing_since" not in found[0]["data"]["object"]


async def test_a_webhook_is_updated_with_if_match_and_deleted_with_its_events(
    client: AsyncClient, team: Team, receiver: Receiver
) -> None:
    created = await add_webhook(client, team, receiver.url, ["client.created"])
    url = f"{webhooks_url(team)}/{created['id']}"
    headers = auth_headers(team.owner)
    stale = await client.patch(
        url, json={"description": "x"}, headers={**headers, "If-Match": '"7"'}
    )
    assert stale.status_code == 412
    changed = await client.patch(
        url,
        json={"description": "Payroll", "event_types": ["*"], "enabled": False},
        headers={**headers, "If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["event_types"] == ["*"]
    assert changed.json()["disabled_reason"] == "Disabled by an admin."
    assert changed.headers["ETag"] == '"2"'
    enabled = await client.patch(url, json={"enabled": True}, headers=headers)
    assert enabled.json()["disabled_reason"] is None
    assert (await client.delete(url, headers=headers)).status_code == 204
    assert (await client.get(url, headers=headers)).status_code == 404
    events = await client.get(
        f"/api/v1/workspaces/{team.workspace.id}/events",
        params={"type": "webhook.*", "order": "sequence"},
        headers=headers,
    )
    found = events.json()["items"]
    assert [event["type"] for event in found] == [
        "webhook.created",
        "webhook.updated",
        "webhook.updated",
        "webhook.deleted",
    ]
    assert found[1]["data"]["previous"] == {
        "description": "",
        "event_types": ["client.created"],
        "enabled": True,
        "disabled_reason": None,
    }


@pytest.mark.parametrize(
    "body",
    [
        {"url": "ftp://example.com/x", "event_types": ["*"]},
        {"url": "not a url", "event_types": ["*"]},
        {"url": "https://example.com/x", "event_types": []},
        {"url": "https://example.com/x", "event_types": ["time_entry.%"]},
        {"url": "https://example.com/x", "event_types": ["*"], "secret": "whsec_mine"},
        {"url": "https://example.com/x", "event_types": ["*"], "created_by_user_id": None},
    ],
)
async def test_bad_webhooks_are_refused(
    client: AsyncClient, team: Team, body: dict[str, Any]
) -> None:
    response = await client.post(webhooks_url(team), json=body, headers=auth_headers(team.admin))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"


# Who may


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", ""),
        ("POST", ""),
        ("GET", "/{id}"),
        ("PATCH", "/{id}"),
        ("DELETE", "/{id}"),
        ("POST", "/{id}/rotate-secret"),
        ("POST", "/{id}/test"),
        ("GET", "/{id}/deliveries"),
        ("POST", "/{id}/deliveries/{delivery}/retry"),
    ],
)
async def test_members_get_403_outsiders_and_other_workspaces_404(
    client: AsyncClient, team: Team, receiver: Receiver, method: str, path: str
) -> None:
    webhook = await add_webhook(client, team, receiver.url, ["*"])
    ping = await client.post(
        f"{webhooks_url(team)}/{webhook['id']}/test", headers=auth_headers(team.admin)
    )
    assert ping.status_code == 202, ping.text
    concrete = path.format(id=webhook["id"], delivery=ping.json()["id"])
    body = {"url": receiver.url, "event_types": ["*"]} if path == "" and method == "POST" else {}

    async def call(user: Any, base: str, path: str) -> int:
        response = await client.request(
            method, f"{base}{path}", json=body or None, headers=auth_headers(user)
        )
        return response.status_code

    assert await call(team.member, webhooks_url(team), concrete) == 403
    assert await call(team.outsider, webhooks_url(team), concrete) == 404
    if "{id}" in path:
        # The outsider's own workspace does not hold this webhook; an unknown id is no better.
        other = f"/api/v1/workspaces/{team.other_workspace.id}/webhooks"
        assert await call(team.outsider, other, concrete) == 404
        unknown = path.format(id=uuid.uuid4(), delivery=ping.json()["id"])
        assert await call(team.admin, webhooks_url(team), unknown) == 404
    if "{delivery}" in path:
        unknown = path.format(id=webhook["id"], delivery=uuid.uuid4())
        assert await call(team.admin, webhooks_url(team), unknown) == 404


# Matching


async def test_event_types_match_exactly_by_kind_or_all(
    client: AsyncClient, team: Team, receiver: Receiver
) -> None:
    every = await add_webhook(client, team, receiver.url, ["*"])
    entries = await add_webhook(client, team, receiver.url, ["time_entry.*"])
    timers = await add_webhook(client, team, receiver.url, ["timer.started", "client.updated"])
    clients = await add_webhook(client, team, receiver.url, ["client.*", "client.created"])
    disabled = await client.post(
        webhooks_url(team),
        json={"url": receiver.url, "event_types": ["*"], "enabled": False},
        headers=auth_headers(team.admin),
    )
    assert disabled.status_code == 201, disabled.text

    made = await add_client(client, team)
    renamed = await client.patch(
        f"/api/v1/workspaces/{team.workspace.id}/clients/{made['id']}",
        json={"name": "Acme 2"},
        headers=auth_headers(team.admin),
    )
    assert renamed.status_code == 200
    await add_entry(client, team, 9)
    started = await client.post(
        timer_url(team.workspace, "start"), json={}, headers=auth_headers(team.member)
    )
    assert started.status_code == 201

    async def types(webhook: dict[str, Any]) -> list[str]:
        return sorted(
            delivery["event_type"] for delivery in await deliveries_of(client, team, webhook)
        )

    # Its own creation included: it is subscribed by the time that event commits.
    assert await types(every) == sorted(
        [
            *["webhook.created"] * 5,
            "client.created",
            "client.updated",
            "time_entry.created",
            "timer.started",
        ]
    )
    assert await types(entries) == ["time_entry.created"]
    assert await types(timers) == ["client.updated", "timer.started"]
    # Two patterns matching one event still make one delivery.
    assert await types(clients) == ["client.created", "client.updated"]
    assert await types(disabled.json()) == []


async def test_a_refused_write_owes_no_delivery(
    client: AsyncClient, team: Team, receiver: Receiver
) -> None:
    webhook = await add_webhook(client, team, receiver.url, ["client.*"])
    await add_client(client, team, "Acme")
    again = await client.post(
        f"/api/v1/workspaces/{team.workspace.id}/clients",
        json={"name": "Acme"},
        headers=auth_headers(team.admin),
    )
    assert again.status_code == 409
    assert len(await deliveries_of(client, team, webhook)) == 1


# Delivering


async def test_an_event_is_delivered_signed_as_the_audit_log_shows_it(
    client: AsyncClient, team: Team, receiver: Receiver, dispatcher: Dispatcher
) -> None:
    webhook = await add_webhook(client, team, receiver.url, ["client.created"])
    made = await add_client(client, team)
    assert await dispatcher.run_once() == 1
    assert await dispatcher.run_once() == 0

    [request] = receiver.requests
    assert request.path == "/hook"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-signature"].startswith("v1,")
    body = verified(webhook, request)
    audit = await client.get(
        f"/api/v1/workspaces/{team.workspace.id}/events",
        params={"subject_id": made["id"]},
        headers=auth_headers(team.admin),
    )
    assert body == audit.json()["items"][0]
    assert request.headers["webhook-id"] == body["id"]
    with pytest.raises(WebhookVerificationError):
        Verifier(webhook["secret"]).verify(request.body + b" ", request.headers)

    [delivery] = await deliveries_of(client, team, webhook)
    assert delivery["id"] == body["id"]
    assert delivery["status"] == "delivered"
    assert delivery["attempts"] == 1
    assert delivery["last_status_code"] == 200
    assert delivery["last_response"] == "ok"
    assert delivery["last_duration_ms"] >= 0
    assert delivery["next_attempt_at"] is None


async def test_a_500_is_retried_later_with_the_same_id_and_then_delivered(
    client: AsyncClient,
    session: AsyncSession,
    team: Team,
    receiver: Receiver,
    dispatcher: Dispatcher,
) -> None:
    webhook = await add_webhook(client, team, receiver.url, ["client.created"])
    receiver.answer(Answer(500, body=b"x" * 100_000))
    await add_client(client, team)
    before = utcnow()
    assert await dispatcher.run_once() == 1
    [delivery] = await deliveries_of(client, team, webhook)
    assert delivery["status"] == "pending"
    assert delivery["last_status_code"] == 500
    assert len(delivery["last_response"]) == 64 * 1024
    next_at = delivery["next_attempt_at"]
    wait = (utcnow().fromisoformat(next_at) - before).total_seconds()
    assert 3 <= wait <= 7  # 5 s, give or take the jitter
    assert await dispatcher.run_once() == 0  # not due yet

    await make_due(session)
    assert await dispatcher.run_once() == 1
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    verified(webhook, second)
    [delivery] = await deliveries_of(client, team, webhook)
    assert (delivery["status"], delivery["attempts"]) == ("delivered", 2)
    stored = await session.get(Webhook, uuid.UUID(webhook["id"]))
    await session.refresh(stored)
    assert stored.failing_since is None


async def test_a_timeout_is_retried(
    client: AsyncClient,
    session: AsyncSession,
    team: Team,
    sessions: Sessions,
    settings: Settings,
    receiver: Receiver,
) -> None:
    webhook = await add_webhook(client, team, receiver.url, ["client.created"])
    receiver.answer(Answer(200, delay=3))
    await add_client(client, team)
    impatient = settings.model_copy(update={"webhook_timeout_seconds": 0.5})
    async with Dispatcher(sessions, impatient, concurrency=1) as dispatcher:
        assert await dispatcher.run_once() == 1
        [delivery] = await deliveries_of(client, team, webhook)
        assert delivery["status"] == "pending"
        assert delivery["last_status_code"] is None
        assert delivery["last_error"] == "No answer within 0.5 s."
        assert delivery["last_duration_ms"] < 2000
        await make_due(session)
        assert await dispatcher.run_once() == 1
    [delivery] = await deliveries_of(client, team, webhook)
    assert (delivery["status"], delivery["attempts"]) == ("delivered", 2)


async def test_a_410_disables_the_webhook_at_once(
    client: AsyncClient, team: Team, receiver: Receiver, dispatcher: Dispatcher
) -> None:
    webhook = await add_webhook(client, team, receiver.url, ["client.*"])
    receiver.answer(Answer(410))
    await add_client(client, team, "One")
    assert await dispatcher.run_once() == 1
    [delivery] = await deliveries_of(client, team, webhook)
    assert (delivery["status"], delivery["next_attempt_at"]) == ("failed", None)
    read = await client.get(
        f"{webhooks_url(team)}/{webhook['id']}", headers=auth_headers(team.admin)
    )
    assert read.json()["enabled"] is False
    assert read.json()["disabled_reason"] == "The endpoint answered 410 Gone."
    # Disabled, it is owed nothing more.
    await add_client(client, team, "Two")
    assert len(await deliveries_of(client, team, webhook)) == 1
    retried = await client.post(
        f"{webhooks_url(team)}/{webhook['id']}/deliveries/{delivery['id']}/retry",
        headers=auth_headers(team.admin),
    )
    assert retried.status_code == 409
    events = await client.get(
        f"/api/v1/workspaces/{team.workspace.id}/events",
        params={"type": "webhook.updated"},
        headers=auth_headers(team.admin),
    )
    [disabled] = events.json()["items"]
    assert disabled["data"]["previous"] == {"enabled": True, "disabled_reason": None}
    assert disabled["actor_id"] is None


async def test_three_days_of_failures_disable_the_webhook_and_say_why(
    client: AsyncClient,
    session: AsyncSession,
    team: Team,
    receiver: Receiver,
    dispatcher: Dispatcher,
) -> None:
    webhook = await add_webhook(client, team, receiver.url, ["client.*"])
    receiver.default = Answer(503)
    await add_client(client, team, "One")
    assert await dispatcher.run_once() == 1
    stored = await session.get(Webhook, uuid.UUID(webhook["id"]))
    await session.refresh(stored)
    assert stored.enabled and stored.failing_since is not None
    await session.execute(
        update(Webhook)
        .where(Webhook.id == stored.id)
        .values(failing_since=utcnow() - FAILING_LIMIT - timedelta(minutes=1))
    )
    await make_due(session)
    assert await dispatcher.run_once() == 1
    read = await client.get(
        f"{webhooks_url(team)}/{webhook['id']}", headers=auth_headers(team.admin)
    )
    assert read.json()["enabled"] is False
    assert read.json()["disabled_reason"].startswith("Every delivery failed since ")
    assert read.json()["disabled_reason"].endswith("(last: HTTP 503).")
    # Enabled again, it has three fresh days.
    enabled = await client.patch(
        f"{webhooks_url(team)}/{webhook['id']}",
        json={"enabled": True},
        headers=auth_headers(team.admin),
    )
    assert enabled.json()["disabled_reason"] is None
    await session.refresh(stored)
    assert stored.failing_since is None


async def test_the_retries_run_out_after_about_a_day(
    client: AsyncClient,
    session: AsyncSession,
    team: Team,
    receiver: Receiver,
    dispatcher: Dispatcher,
) -> None:
    total = sum(RETRY_DELAYS, timedelta())
    assert timedelta(hours=20) <= total <= timedelta(hours=30)
    assert list(RETRY_DELAYS) == sorted(RETRY_DELAYS)
    for attempts, base in enumerate(RETRY_DELAYS, start=1):
        delay = retry_delay(attempts)
        assert delay is not None and base * 0.8 <= delay <= base * 1.2
    assert retry_delay(len(RETRY_DELAYS) + 1) is None

    webhook = await add_webhook(client, team, receiver.url, ["client.*"])
    receiver.default = Answer(500)
    await add_client(client, team)
    await session.execute(update(WebhookDelivery).values(attempts=len(RETRY_DELAYS)))
    assert await dispatcher.run_once() == 1
    [delivery] = await deliveries_of(client, team, webhook)
    assert (delivery["status"], delivery["next_attempt_at"]) == ("failed", None)
    assert delivery["attempts"] == len(RETRY_DELAYS) + 1

    # A retry by hand is one more attempt.
    receiver.default = Answer(200)
    retried = await client.post(
        f"{webhooks_url(team)}/{webhook['id']}/deliveries/{delivery['id']}/retry",
        headers=auth_headers(team.admin),
    )
    assert retried.status_code == 202, retried.text
    assert retried.json()["status"] == "pending"
    assert await dispatcher.run_once() == 1
    [delivery] = await deliveries_of(client, team, webhook)
    assert delivery["status"] == "delivered"


async def test_a_ping_goes_through_the_outbox_and_can_be_sent_again(
    client: AsyncClient, team: Team, receiver: Receiver, dispatcher: Dispatcher
) -> None:
    webhook = await add_webhook(client, team, receiver.url, ["client.created"])
    url = f"{webhooks_url(team)}/{webhook['id']}"
    ping = await client.post(f"{url}/test", headers=auth_headers(team.admin))
    assert ping.status_code == 202, ping.text
    assert (ping.json()["event_type"], ping.json()["status"]) == ("webhook.ping", "pending")
    assert await dispatcher.run_once() == 1
    body = verified(webhook, receiver.requests[0])
    assert body["type"] == "webhook.ping"
    assert body["id"] == ping.json()["id"] == receiver.requests[0].headers["webhook-id"]
    assert body["subject"] == {"type": "webhook", "id": webhook["id"]}
    assert body["actor_id"] == str(team.admin.id)
    assert body["data"]["object"]["url"] == receiver.url
    assert "secret" not in body["data"]["object"]

    again = await client.post(
        f"{url}/deliveries/{ping.json()['id']}/retry", headers=auth_headers(team.admin)
    )
    assert again.status_code == 202, again.text
    assert await dispatcher.run_once() == 1
    assert len(receiver.requests) == 2
    assert receiver.received_ids() == {ping.json()["id"]}

    # Deliveries page newest first.
    await client.post(f"{url}/test", headers=auth_headers(team.admin))
    first = await client.get(
        f"{url}/deliveries", params={"limit": 1}, headers=auth_headers(team.admin)
    )
    assert first.json()["items"][0]["status"] == "pending"
    rest = await client.get(
        f"{url}/deliveries",
        params={"limit": 1, "cursor": first.json()["next_cursor"]},
        headers=auth_headers(team.admin),
    )
    assert rest.json()["items"][0]["id"] == ping.json()["id"]
    delivered = await client.get(
        f"{url}/deliveries", params={"status": "delivered"}, headers=auth_headers(team.admin)
    )
    assert [item["id"] for item in delivered.json()["items"]] == [ping.json()["id"]]


# Seeing what the creator may see


async def test_rates_show_only_while_the_creator_may_see_them(
    client: AsyncClient, team: Team, receiver: Receiver, dispatcher: Dispatcher
) -> None:
    webhook = await add_webhook(client, team, receiver.url, ["project.*"])
    projects = f"/api/v1/workspaces/{team.workspace.id}/projects"
    made = await client.post(
        projects,
        json={"name": "Rated", "hourly_rate_cents": 9000},
        headers=auth_headers(team.owner),
    )
    assert made.status_code == 201, made.text
    assert await dispatcher.run_once() == 1
    assert verified(webhook, receiver.requests[0])["data"]["object"]["hourly_rate_cents"] == 9000

    demoted = await client.patch(
        f"/api/v1/workspaces/{team.workspace.id}/members/{team.admin.id}",
        json={"role": "member"},
        headers=auth_headers(team.owner),
    )
    assert demoted.status_code == 200, demoted.text
    changed = await client.patch(
        f"{projects}/{made.json()['id']}",
        json={"hourly_rate_cents": 9500},
        headers=auth_headers(team.owner),
    )
    assert changed.status_code == 200
    assert await dispatcher.run_once() == 1
    body = verified(webhook, receiver.requests[1])
    assert body["data"]["object"]["hourly_rate_cents"] is None
    assert body["data"]["previous"]["hourly_rate_cents"] is None


async def test_a_demoted_creator_stops_receiving_what_members_cannot_see(
    client: AsyncClient, team: Team, receiver: Receiver, dispatcher: Dispatcher
) -> None:
    webhook = await add_webhook(client, team, receiver.url, ["time_entry.*"])
    await add_entry(client, team, 9)
    assert await dispatcher.run_once() == 1
    assert len(receiver.requests) == 1

    demoted = await client.patch(
        f"/api/v1/workspaces/{team.workspace.id}/members/{team.admin.id}",
        json={"role": "member"},
        headers=auth_headers(team.owner),
    )
    assert demoted.status_code == 200, demoted.text
    others = await add_entry(client, team, 11)  # the member's: no longer the creator's to see
    own = await add_entry(client, team, 13, by=team.admin)
    assert await drain(dispatcher) == 2
    assert len(receiver.requests) == 2
    assert verified(webhook, receiver.requests[1])["subject"]["id"] == own["id"]
    statuses = {delivery["id"]: delivery for delivery in await deliveries_of(client, team, webhook)}
    skipped = [d for d in statuses.values() if d["status"] == "skipped"]
    assert len(skipped) == 1
    assert (
        skipped[0]["last_error"] == "Its creator may not read this event, or the event was pruned."
    )
    assert others["id"] not in {verified(webhook, r)["subject"]["id"] for r in receiver.requests}


async def test_a_removed_creator_disables_the_webhook(
    client: AsyncClient, team: Team, receiver: Receiver, dispatcher: Dispatcher
) -> None:
    webhook = await add_webhook(client, team, receiver.url, ["client.*"])
    removed = await client.delete(
        f"/api/v1/workspaces/{team.workspace.id}/members/{team.admin.id}",
        headers=auth_headers(team.owner),
    )
    assert removed.status_code == 204, removed.text
    made = await client.post(
        f"/api/v1/workspaces/{team.workspace.id}/clients",
        json={"name": "After"},
        headers=auth_headers(team.owner),
    )
    assert made.status_code == 201
    assert await dispatcher.run_once() == 1
    assert receiver.requests == []
    [delivery] = await deliveries_of(client, team, webhook)
    assert delivery["status"] == "skipped"
    read = await client.get(
        f"{webhooks_url(team)}/{webhook['id']}", headers=auth_headers(team.owner)
    )
    assert read.json()["enabled"] is False
    assert read.json()["disabled_reason"] == "Its creator is no longer a member of the workspace."


# Where it may not send


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://127.0.0.1:8080/hook", "loopback"),
        ("http://10.0.0.1/hook", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local (cloud metadata)"),
        ("http://[::1]/hook", "loopback"),
        ("http://[::ffff:127.0.0.1]/hook", "loopback"),
        ("http://localhost:9000/hook", "loopback"),
        ("http://0.0.0.0/hook", "private"),
        ("http://224.0.0.1/hook", "multicast"),
        ("http://100.100.100.200/latest/meta-data/", "reserved"),
    ],
)
async def test_private_targets_are_refused_when_saved(
    client: AsyncClient, app: FastAPI, settings: Settings, team: Team, url: str, kind: str
) -> None:
    app.state.settings = settings.model_copy(update={"webhook_allow_private_targets": False})
    response = await client.post(
        webhooks_url(team),
        json={"url": url, "event_types": ["*"]},
        headers=auth_headers(team.admin),
    )
    assert response.status_code == 422, response.text
    [problem] = response.json()["errors"]
    assert problem["loc"] == ["body", "url"]
    assert "must reach a public address" in problem["msg"]
    assert f"a {kind} address" in problem["msg"]


async def test_a_url_changed_to_a_private_target_is_refused(
    client: AsyncClient, app: FastAPI, settings: Settings, team: Team
) -> None:
    app.state.settings = settings.model_copy(update={"webhook_allow_private_targets": False})
    webhook = await add_webhook(client, team, "http://93.184.215.14/hook", ["*"])
    changed = await client.patch(
        f"{webhooks_url(team)}/{webhook['id']}",
        json={"url": "http://169.254.169.254/"},
        headers=auth_headers(team.admin),
    )
    assert changed.status_code == 422, changed.text


async def test_production_takes_https_only(
    client: AsyncClient, app: FastAPI, settings: Settings, team: Team
) -> None:
    app.state.settings = settings.model_copy(
        update={"environment": Environment.PRODUCTION, "webhook_allow_private_targets": False}
    )
    response = await client.post(
        webhooks_url(team),
        json={"url": "http://93.184.215.14/hook", "event_types": ["*"]},
        headers=auth_headers(team.admin),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["msg"] == "The webhook's URL must use https."


async def test_a_target_is_checked_again_when_sent(
    client: AsyncClient,
    session: AsyncSession,
    team: Team,
    sessions: Sessions,
    settings: Settings,
    receiver: Receiver,
) -> None:
    # Saved while private targets were allowed (or while the name resolved elsewhere).
    webhook = await add_webhook(client, team, receiver.url, ["client.*"])
    await add_client(client, team)
    strict = settings.model_copy(update={"webhook_allow_private_targets": False})
    async with Dispatcher(sessions, strict, concurrency=1) as dispatcher:
        assert await dispatcher.run_once() == 1
    assert receiver.requests == []
    [delivery] = await deliveries_of(client, team, webhook)
    assert delivery["status"] == "pending"
    assert delivery["last_error"].startswith("The webhook's URL must reach a public address")
    rows = (await session.scalars(select(WebhookDelivery))).all()
    assert [row.attempts for row in rows] == [1]


async def test_pruning_removes_settled_deliveries_past_retention(
    client: AsyncClient,
    session: AsyncSession,
    team: Team,
    receiver: Receiver,
    dispatcher: Dispatcher,
) -> None:
    webhook = await add_webhook(client, team, receiver.url, ["client.*"])
    await add_client(client, team, "Sent")
    assert await dispatcher.run_once() == 1
    await add_client(client, team, "Owed")
    old = utcnow() - timedelta(days=401)
    await session.execute(update(WebhookDelivery).values(created_at=old))
    assert await DeliveryQueue(session).prune(utcnow() - timedelta(days=400)) == 1
    [owed] = await deliveries_of(client, team, webhook)
    assert owed["status"] == "pending"


async def test_an_import_reaches_webhooks_as_one_summary(
    app: FastAPI, client: AsyncClient, team: Team, receiver: Receiver, dispatcher: Dispatcher
) -> None:
    webhook = await add_webhook(client, team, receiver.url, ["import.completed", "project.*"])
    entries = await add_webhook(client, team, receiver.url, ["time_entry.*"])
    csv = (
        "User,Email,Client,Project,Task,Description,Billable,Start date,Start time,"
        "End date,End time,Duration,Tags\n"
        f"Ada,{team.member.email},,Apollo,,first,No,2024-04-22,09:00:00,2024-04-22,10:00:00,"
        "01:00:00,\n"
        f"Ada,{team.member.email},,Apollo,,second,No,2024-04-23,09:00:00,2024-04-23,10:00:00,"
        "01:00:00,\n"
    )
    imported = await client.post(
        f"/api/v1/workspaces/{team.workspace.id}/imports",
        data={"format": "toggl_csv", "timezone": "UTC"},
        files={"file": ("toggl.csv", io.BytesIO(csv.encode()), "text/csv")},
        headers=auth_headers(team.admin),
    )
    await finished_run(app, client, imported, auth_headers(team.admin))
    assert await drain(dispatcher) == 2
    bodies = [verified(webhook, request) for request in receiver.requests]
    assert sorted(body["type"] for body in bodies) == ["import.completed", "project.created"]
    [summary] = [body for body in bodies if body["type"] == "import.completed"]
    assert summary["origin"] == "import"
    assert summary["data"]["object"]["created"] == 2
    # The rows themselves are written in bulk, as no event each.
    assert await deliveries_of(client, team, entries) == []
