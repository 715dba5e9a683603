"""The webhook dispatcher: sends what the outbox owes, signed, and retries what fails.

It runs in every `timesheet serve` worker (unless `WEBHOOK_DISPATCHER=false`) and as
`timesheet webhooks run`. Each round claims due deliveries in a short transaction of its
own (`DeliveryQueue.claim`: `FOR UPDATE SKIP LOCKED` on PostgreSQL, so two dispatchers
never take the same attempt), which marks them `sending` until a lease runs out: one whose
sender dies is sent again after it. Then each is rendered as its webhook's creator may read
it now, checked against its target's addresses, sent, and settled in a transaction of its
own. When idle it polls every `WEBHOOK_POLL_SECONDS`, and wakes at once after a commit of
its own process that queued deliveries.
"""

import asyncio
import json
import random
import time
import uuid
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlunsplit

import httpx
from standardwebhooks.webhooks import Webhook as Signer

from app.background import Rounds
from app.config import Settings
from app.db import webhook_outbox
from app.db.engine import Sessions
from app.db.types import utcnow
from app.db.unit_of_work import UnitOfWork
from app.enums import DeliveryStatus
from app.errors import InvalidInput
from app.repositories.events import EventRepository
from app.repositories.standing import Standing
from app.repositories.users import UserRepository
from app.repositories.webhooks import Attempt, Claimed, DeliveryQueue, WebhookRepository
from app.schemas.common import rate_context
from app.schemas.events import EventRead
from app.services import policies, webhook_targets
from app.services.caller import Caller, SignIn

# The wait after each failed attempt: about a day in all, then the delivery has failed.
RETRY_DELAYS = tuple(
    timedelta(seconds=seconds)
    for seconds in (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
)
# An endpoint that has failed every attempt for this long gets its webhook disabled.
FAILING_LIMIT = timedelta(days=3)
RESPONSE_KEPT_BYTES = 64 * 1024
# Deliveries claimed, and then sent, at once: each goes out as soon as it is claimed, well
# within its lease.
CONCURRENCY = 16
# Beyond the timeout, how long a claim holds before another dispatcher may take it over.
LEASE_MARGIN = timedelta(seconds=10)
STOP_GRACE_SECONDS = 5.0
USER_AGENT = "Timesheet-Webhooks/1"

GONE = "The endpoint answered 410 Gone."
CREATOR_GONE = "Its creator is no longer a member of the workspace."
UNREADABLE = "Its creator may not read this event, or the event was pruned."


def retry_delay(attempts: int) -> timedelta | None:
    """The wait before the next attempt, after `attempts` failed ones, with ±20 % jitter so
    that deliveries failing together are not retried together; None when they ran out."""
    if attempts > len(RETRY_DELAYS):
        return None
    jitter = random.uniform(0.8, 1.2)  # noqa: S311 - spreading retries, not a secret
    return RETRY_DELAYS[attempts - 1] * jitter


@dataclass(frozen=True)
class _Skip:
    reason: str
    disable: str | None = None


@dataclass(frozen=True)
class _Answer:
    duration_ms: int
    status_code: int | None = None
    body: str | None = None
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class Dispatcher(Rounds):
    name = "webhook-dispatcher"

    def __init__(
        self, sessions: Sessions, settings: Settings, *, concurrency: int = CONCURRENCY
    ) -> None:
        super().__init__(settings.webhook_poll_seconds)
        self.sessions = sessions
        self.settings = settings
        # Deliveries sent at once; the tests' shared connection takes one at a time.
        self.concurrency = concurrency
        self._client = httpx.AsyncClient(
            follow_redirects=False,
            timeout=settings.webhook_timeout_seconds,
            headers={"user-agent": USER_AGENT},
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._client.aclose()

    # Running

    async def stop(self) -> None:
        """Finish the round in progress (for a few seconds at most) and stop. What was
        cut short stays claimed until its lease runs out and is then sent again."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), STOP_GRACE_SECONDS)
            except TimeoutError:
                self._task.cancel()
                with suppress(asyncio.CancelledError):
                    await self._task
        await self._client.aclose()

    async def run(self) -> None:
        stop_waking = webhook_outbox.on_queued(self.wake)
        try:
            await super().run()
        finally:
            stop_waking()

    async def run_once(self) -> int:
        """Claim what is due, send it at once, and record how each attempt went; how many
        deliveries were claimed. A round that fails midway leaves its deliveries claimed:
        they are sent again once their lease runs out."""
        claimed = await self._claim()
        if not claimed:
            return 0
        bodies = await self._render(claimed)
        answers = await asyncio.gather(
            *(
                self._send(delivery, body)
                for delivery, body in zip(claimed, bodies, strict=True)
                if not isinstance(body, _Skip)
            )
        )
        sent = iter(answers)
        await self._settle(
            [
                (delivery, body if isinstance(body, _Skip) else next(sent))
                for delivery, body in zip(claimed, bodies, strict=True)
            ]
        )
        return len(claimed)

    async def _claim(self) -> list[Claimed]:
        now = utcnow()
        lease = timedelta(seconds=self.settings.webhook_timeout_seconds) + LEASE_MARGIN
        async with UnitOfWork(self.sessions) as uow:
            return await DeliveryQueue(uow.session).claim(now, now + lease, self.concurrency)

    # The steps of a round

    async def _render(self, claimed: list[Claimed]) -> list[bytes | _Skip]:
        """Each body, as the webhook's creator may read the event now; in one unit of work."""
        async with UnitOfWork(self.sessions, read_only=True) as uow:
            creators: dict[tuple[uuid.UUID, uuid.UUID | None], Caller | None] = {}
            for delivery in claimed:
                key = (delivery.workspace_id, delivery.creator_id)
                if delivery.creator_id is not None and key not in creators:
                    standing = await UserRepository(uow.session).get_active(
                        delivery.creator_id, delivery.workspace_id
                    )
                    creators[key] = _caller(standing)
            readable: dict[uuid.UUID, bytes] = {}
            for (workspace_id, _), creator in creators.items():
                if creator is None:
                    continue
                ids = [
                    d.id
                    for d in claimed
                    if (d.workspace_id, d.creator_id) == (workspace_id, creator.user_id)
                    and d.payload is None
                ]
                if not ids:
                    continue
                events = EventRepository(
                    uow.session, workspace_id, viewer_id=policies.event_viewer(creator)
                )
                context = rate_context(policies.may_see_rates(creator))
                for event in await events.readable(ids):
                    rendered = EventRead.model_validate(event, context=context)
                    readable[event.id] = rendered.model_dump_json().encode()
        bodies: list[bytes | _Skip] = []
        for delivery in claimed:
            if creators.get((delivery.workspace_id, delivery.creator_id)) is None:
                bodies.append(_Skip(CREATOR_GONE, disable=CREATOR_GONE))
            elif delivery.payload is not None:
                bodies.append(json.dumps(delivery.payload, separators=(",", ":")).encode())
            else:
                bodies.append(readable.get(delivery.id, _Skip(UNREADABLE)))
        return bodies

    async def _send(self, delivery: Claimed, body: bytes) -> _Answer:
        started = time.monotonic()

        def elapsed_ms() -> int:
            return int((time.monotonic() - started) * 1000)

        timeout = self.settings.webhook_timeout_seconds
        try:
            # The lookup counts against the timeout too, so a claim's lease covers it.
            async with asyncio.timeout(timeout):
                target = await webhook_targets.resolve(delivery.url, self.settings)
                url, options = _request_to(target, delivery.id, delivery.secret, body)
                request = self._client.build_request("POST", url, **options)
                response = await self._client.send(request, stream=True)
                try:
                    kept = await _read_start(response)
                finally:
                    await response.aclose()
        except InvalidInput as exc:
            return _Answer(elapsed_ms(), error=exc.detail)
        except (TimeoutError, httpx.TimeoutException):
            return _Answer(elapsed_ms(), error=f"No answer within {timeout:g} s.")
        except httpx.HTTPError as exc:
            return _Answer(elapsed_ms(), error=f"{type(exc).__name__}: {exc}"[:500])
        return _Answer(elapsed_ms(), response.status_code, kept.decode(errors="replace"))

    async def _settle(self, outcomes: list[tuple[Claimed, _Answer | _Skip]]) -> None:
        """Record each attempt, in one unit of work, and disable the webhooks that must be."""
        async with UnitOfWork(self.sessions) as uow:
            queue = DeliveryQueue(uow.session)
            for delivery, outcome in outcomes:
                attempt, disable = _judged(delivery, outcome)
                if not await queue.settle(delivery, attempt):
                    continue  # its lease ran out and another attempt took it over
                if isinstance(outcome, _Answer):
                    if outcome.succeeded and delivery.failing_since is not None:
                        await queue.endpoint_answered(delivery.webhook_id)
                    elif not outcome.succeeded and disable is None:
                        since = await queue.endpoint_failed(delivery.webhook_id, attempt.at)
                        if attempt.at - since >= FAILING_LIMIT:
                            disable = _failing_for(since, outcome)
                if disable is not None:
                    webhooks = WebhookRepository(uow.session, delivery.workspace_id)
                    webhook = await webhooks.get_or_none(delivery.webhook_id)
                    if webhook is not None and webhook.enabled:
                        changes = {"enabled": False, "disabled_reason": disable}
                        await webhooks.update(webhook, changes)


def _caller(standing: Standing | None) -> Caller | None:
    """The webhook's creator as a reader of its workspace; None once they are no member."""
    if standing is None or standing.membership is None or standing.workspace is None:
        return None
    caller = Caller(standing.user, SignIn.WEBHOOK)
    return caller.in_workspace(standing.workspace, standing.membership)


def _judged(delivery: Claimed, outcome: _Answer | _Skip) -> tuple[Attempt, str | None]:
    """The attempt to record, and why to disable the webhook (None: no reason)."""
    now = utcnow()
    if isinstance(outcome, _Skip):
        return Attempt(DeliveryStatus.SKIPPED, None, at=now, error=outcome.reason), outcome.disable
    status, next_attempt_at, disable = DeliveryStatus.DELIVERED, None, None
    if not outcome.succeeded:
        delay = None if outcome.status_code == 410 else retry_delay(delivery.attempts)
        status = DeliveryStatus.FAILED if delay is None else DeliveryStatus.PENDING
        next_attempt_at = None if delay is None else now + delay
        disable = GONE if outcome.status_code == 410 else None
    attempt = Attempt(
        status,
        next_attempt_at,
        at=now,
        status_code=outcome.status_code,
        duration_ms=outcome.duration_ms,
        error=outcome.error,
        response=outcome.body,
    )
    return attempt, disable


def _failing_for(since: datetime, answer: _Answer) -> str:
    last = f"HTTP {answer.status_code}" if answer.status_code else (answer.error or "no answer")
    return f"Every delivery failed since {since:%Y-%m-%d %H:%M} UTC (last: {last})."[:500]


def _request_to(
    target: webhook_targets.Target, message_id: uuid.UUID, secret: str, body: bytes
) -> tuple[str, dict[str, Any]]:
    """The URL and the keyword arguments of a signed POST of `body` to `target`: at its
    checked address, with the name in `Host` and in TLS (SNI and the certificate check)."""
    sent_at = utcnow()
    headers = {
        "content-type": "application/json",
        "webhook-id": str(message_id),
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Signer(secret).sign(str(message_id), sent_at, body),
    }
    url = target.url
    extensions = {}
    if target.address is not None:
        address = target.address
        host = f"[{address}]" if address.version == 6 else str(address)
        headers["host"] = url.netloc.rpartition("@")[2]
        if url.scheme == "https":
            extensions["sni_hostname"] = target.host
        url = url._replace(netloc=f"{host}:{url.port}" if url.port else host)
    return urlunsplit(url), {"content": body, "headers": headers, "extensions": extensions}


async def _read_start(response: httpx.Response) -> bytes:
    """The first `RESPONSE_KEPT_BYTES` of the answer; the rest is not read."""
    kept = bytearray()
    async for chunk in response.aiter_bytes():
        kept += chunk[: RESPONSE_KEPT_BYTES - len(kept)]
        if len(kept) >= RESPONSE_KEPT_BYTES:
            break
    return bytes(kept)
