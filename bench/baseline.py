"""The baseline: bare Starlette + asyncpg + orjson answering the benchmarked requests the way
the real API does, so that `python -m bench` can tell what the application's stack costs.

Each request does the work the real API must do for it: verify the JWT, load the user, load
the membership joined with its workspace, run the route's statements (the same predicates
as the API's), load the entries' tags and render the same JSON, cursors and ETags. Nothing
is kept between requests. It answers only what the benchmark sends: entry lists by
`-start_at` with `limit` and `cursor`, one entry, new entries (project, tags, description,
billable, times), changes of an entry's description with If-Match, and the timer.

    BENCH_DATABASE_URL=postgresql://... BENCH_SECRET_KEY=... \\
        .venv/bin/uvicorn bench.baseline:create_app --factory
"""

# Statements are put together from constants only; every value is a bind parameter.
# ruff: noqa: S608

import os
import uuid
from base64 import urlsafe_b64decode, urlsafe_b64encode
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

import asyncpg
import jwt
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

WORKSPACE = "/api/v1/workspaces/{workspace_id:uuid}"
MAX_LIMIT = 200
DESCRIPTION_MAX_LENGTH = 5000
RUNNING_CONFLICT = "The user already has a running time entry; stop it first."

# Why an entry is closed, as the API reads it: before the workspace's `locked_before`, or
# inside a submitted or approved period of its person.
LOCK_REASON = """
    CASE WHEN time_entries.start_at < (
        SELECT w.locked_before FROM workspaces w WHERE w.id = time_entries.workspace_id
    ) THEN 'closed_period' ELSE (
        SELECT a.state FROM approvals a
        WHERE a.workspace_id = time_entries.workspace_id AND a.user_id = time_entries.user_id
          AND a.state IN ('submitted', 'approved')
          AND a.starts_at <= time_entries.start_at AND a.ends_at > time_entries.start_at
        LIMIT 1
    ) END AS locked_reason
"""
ENTRY_COLUMNS = (
    "id, workspace_id, user_id, project_id, task_id, description, start_at, end_at, billable, "
    f"hourly_rate_cents, source, version, created_at, updated_at, deleted_at, {LOCK_REASON}"
)
# The closed time a write checks, read once the user is locked: the workspace's
# `locked_before` and whether a closing period of the user holds the instant.
CLOSED_TIME = """
    SELECT w.locked_before > $3 OR EXISTS (
        SELECT 1 FROM approvals a
        WHERE a.workspace_id = w.id AND a.user_id = $2 AND a.state = 'approved'
          AND a.starts_at <= $3 AND a.ends_at > $3
    ) FROM workspaces w WHERE w.id = $1
"""
MEMBERSHIP = """
    SELECT m.role, m.hourly_rate_cents, w.default_hourly_rate_cents, w.members_can_see_rates,
           w.prevent_overlaps
    FROM workspaces w JOIN memberships m ON m.workspace_id = w.id
    WHERE w.id = $1 AND w.deleted_at IS NULL AND m.user_id = $2
"""
PROJECT_FOR_USER = """
    SELECT p.deleted_at IS NOT NULL AS deleted,
           p.archived_at IS NOT NULL OR c.archived_at IS NOT NULL AS archived,
           p.visibility = 'public' OR pm.id IS NOT NULL AS visible,
           p.is_billable, p.hourly_rate_cents, pm.hourly_rate_cents AS member_rate
    FROM projects p
    LEFT JOIN clients c ON c.id = p.client_id
    LEFT JOIN project_members pm ON pm.project_id = p.id AND pm.user_id = $3
    WHERE p.id = $1 AND p.workspace_id = $2
"""
LIVE_TAGS = """
    SELECT count(*) FROM tags WHERE id = ANY($1::uuid[]) AND workspace_id = $2
    AND deleted_at IS NULL
"""
TAGS_OF = "SELECT time_entry_id, tag_id FROM time_entry_tags WHERE time_entry_id = ANY($1::uuid[])"
LOCK_USER = "SELECT 1 FROM users WHERE id = $1 FOR UPDATE"
RUNNING = "user_id = $1 AND end_at IS NULL AND deleted_at IS NULL"
INSERT_ENTRY = f"""
    INSERT INTO time_entries (id, workspace_id, user_id, project_id, description, start_at,
        end_at, billable, hourly_rate_cents, source, created_at, updated_at, version)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, 1)
    RETURNING {ENTRY_COLUMNS}
"""
INSERT_TAGS = """
    INSERT INTO time_entry_tags (time_entry_id, tag_id, workspace_id)
    SELECT $1, unnest($2::uuid[]), $3
"""


class Problem(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail

    def response(self) -> Response:
        body = {"title": HTTPStatus(self.status).phrase, "status": self.status}
        return Response(
            orjson.dumps(body | {"detail": self.detail}),
            self.status,
            media_type="application/problem+json",
        )


@dataclass(frozen=True)
class Caller:
    user_id: str
    workspace_id: str
    is_admin: bool
    rates_visible: bool
    rate: int | None  # the membership's
    default_rate: int
    prevent_overlaps: bool

    @property
    def viewer(self) -> str | None:
        """Whose entries the caller sees: admins everyone's (None), members their own."""
        return None if self.is_admin else self.user_id


def now() -> datetime:
    return datetime.now(UTC)


# Requests


async def authenticate(request: Request, db: asyncpg.Connection) -> Caller:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Problem(401, "Not authenticated.")
    try:
        claims = jwt.decode(
            token,
            request.app.state.secret_key,
            algorithms=["HS256"],
            options={"require": ["sub", "exp", "iat", "gen", "typ"]},
        )
        if claims["typ"] != "access":
            raise ValueError("not an access token")
        user_id = str(uuid.UUID(claims["sub"]))
    except (jwt.PyJWTError, ValueError) as exc:
        raise Problem(401, "The access token is invalid or expired.") from exc
    user = await db.fetchrow(
        "SELECT is_active, deleted_at, token_generation FROM users WHERE id = $1", user_id
    )
    if (
        user is None
        or not user["is_active"]
        or user["deleted_at"] is not None
        or user["token_generation"] != claims["gen"]
    ):
        raise Problem(401, "The access token is no longer valid.")
    workspace_id = str(request.path_params["workspace_id"])
    membership = await db.fetchrow(MEMBERSHIP, workspace_id, user_id)
    if membership is None:
        raise Problem(404, "Workspace not found.")
    is_admin = membership["role"] in ("owner", "admin")
    return Caller(
        user_id=user_id,
        workspace_id=workspace_id,
        is_admin=is_admin,
        rates_visible=is_admin or membership["members_can_see_rates"],
        rate=membership["hourly_rate_cents"],
        default_rate=membership["default_hourly_rate_cents"],
        prevent_overlaps=membership["prevent_overlaps"],
    )


Handler = Callable[[Request, asyncpg.Connection, Caller], Awaitable[Response]]


def endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """The route for `handler`: a connection, the authenticated caller, problems as responses."""

    async def run(request: Request) -> Response:
        try:
            async with request.app.state.pool.acquire() as db:
                return await handler(request, db, await authenticate(request, db))
        except Problem as problem:
            return problem.response()

    return run


async def json_body(request: Request, allowed: set[str]) -> dict[str, Any]:
    try:
        body = orjson.loads(await request.body() or b"{}")
    except orjson.JSONDecodeError as exc:
        raise Problem(422, "The body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise Problem(422, "The body must be a JSON object.")
    if unsupported := body.keys() - allowed:
        raise Problem(422, f"The baseline does not take {sorted(unsupported)}.")
    return body


def as_uuid(value: Any, name: str) -> str:
    try:
        return str(uuid.UUID(value))
    except (TypeError, ValueError, AttributeError) as exc:
        raise Problem(422, f"{name} must be a UUID.") from exc


def as_time(value: Any, name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise Problem(422, f"{name} must be an ISO 8601 date-time.") from exc
    if parsed.tzinfo is None:
        raise Problem(422, f"{name} needs a UTC offset.")
    return parsed.astimezone(UTC)


def as_description(value: Any) -> str:
    if not isinstance(value, str) or len(value) > DESCRIPTION_MAX_LENGTH or "\x00" in value:
        raise Problem(422, "description must be text of at most 5000 characters.")
    return value.strip()


# Rendering


def render(row: asyncpg.Record, tag_ids: list[str], caller: Caller) -> dict[str, Any]:
    end_at = row["end_at"]
    return {
        "id": row["id"],
        "workspace_id": row["workspace_id"],
        "user_id": row["user_id"],
        "project_id": row["project_id"],
        "task_id": row["task_id"],
        "tag_ids": sorted(tag_ids),
        "description": row["description"],
        "start_at": row["start_at"],
        "end_at": end_at,
        "billable": row["billable"],
        "hourly_rate_cents": row["hourly_rate_cents"] if caller.rates_visible else None,
        "source": row["source"],
        "version": row["version"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "deleted_at": row["deleted_at"],
        "locked_reason": row["locked_reason"],
        "duration_seconds": int(((end_at or now()) - row["start_at"]).total_seconds()),
        "locked": row["locked_reason"] is not None,
    }


def json_response(content: Any, status: int = 200, *, version: int | None = None) -> Response:
    return Response(
        orjson.dumps(content, option=orjson.OPT_UTC_Z),
        status,
        headers={"ETag": f'"{version}"'} if version is not None else None,
        media_type="application/json",
    )


async def entry_response(
    db: asyncpg.Connection, row: asyncpg.Record, caller: Caller, status: int = 200
) -> Response:
    tags = await tags_of(db, [row["id"]])
    return json_response(render(row, tags[row["id"]], caller), status, version=row["version"])


def encode_cursor(row: asyncpg.Record) -> str:
    payload = {"k": "start_at", "v": row["start_at"].isoformat(), "id": row["id"]}
    return urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        payload = orjson.loads(urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if payload["k"] != "start_at":
            raise ValueError("a cursor of another list")
        start_at = datetime.fromisoformat(payload["v"])
        if start_at.tzinfo is None:
            raise ValueError("a naive time")
        return start_at, str(uuid.UUID(payload["id"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise Problem(422, "The cursor is not valid for this list.") from exc


# Statements


async def tags_of(db: asyncpg.Connection, entry_ids: list[str]) -> dict[str, list[str]]:
    tags: dict[str, list[str]] = {entry_id: [] for entry_id in entry_ids}
    if entry_ids:
        for entry_id, tag_id in await db.fetch(TAGS_OF, entry_ids):
            tags[entry_id].append(tag_id)
    return tags


async def fetch_entry(
    db: asyncpg.Connection, caller: Caller, entry_id: uuid.UUID, *, include_deleted: bool = False
) -> asyncpg.Record:
    conditions, args = ["id = $1", "workspace_id = $2"], [str(entry_id), caller.workspace_id]
    if not include_deleted:
        conditions.append("deleted_at IS NULL")
    if caller.viewer:
        args.append(caller.viewer)
        conditions.append(f"user_id = ${len(args)}")
    query = f"SELECT {ENTRY_COLUMNS} FROM time_entries WHERE {' AND '.join(conditions)}"
    row = await db.fetchrow(query, *args)
    if row is None:
        raise Problem(404, "Time entry not found.")
    return row


async def new_entry_values(
    db: asyncpg.Connection, caller: Caller, body: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """The columns a new entry takes from `body`, its references checked, and its tag ids.

    The rate snapshot: project member rate, then project rate, then membership rate, then
    the workspace default.
    """
    project = None
    project_id = body.get("project_id")
    if project_id is not None:
        project_id = as_uuid(project_id, "project_id")
        project = await db.fetchrow(
            PROJECT_FOR_USER, project_id, caller.workspace_id, caller.user_id
        )
        if project is None or project["deleted"] or not (caller.is_admin or project["visible"]):
            raise Problem(422, "Project not found.")
        if project["archived"]:
            raise Problem(409, "The project or its client is archived; it takes no new time.")
    tag_ids = list(dict.fromkeys(as_uuid(tag, "tag_ids") for tag in body.get("tag_ids", [])))
    if tag_ids and await db.fetchval(LIVE_TAGS, tag_ids, caller.workspace_id) != len(tag_ids):
        raise Problem(422, "Some tags were not found.")
    billable = body.get("billable", project is not None and project["is_billable"])
    if not isinstance(billable, bool):
        raise Problem(422, "billable must be true or false.")
    rate = None
    if billable:
        choices = [project["member_rate"], project["hourly_rate_cents"]] if project else []
        rate = next((r for r in [*choices, caller.rate] if r is not None), caller.default_rate)
    values = {
        "project_id": project_id,
        "description": as_description(body.get("description", "")),
        "billable": billable,
        "hourly_rate_cents": rate,
    }
    return values, tag_ids


async def claim(
    db: asyncpg.Connection,
    caller: Caller,
    start_at: datetime,
    end_at: datetime | None,
    *,
    stop_running: bool = False,
) -> None:
    """No write into closed time, one running entry per user and, where the workspace says
    so, no overlaps. The user's row lock serializes these checks with every other writer of
    the user's time."""
    await db.execute(LOCK_USER, caller.user_id)
    if await db.fetchval(CLOSED_TIME, caller.workspace_id, caller.user_id, start_at):
        raise Problem(409, "The time is closed.")
    if end_at is None:
        if stop_running:
            await db.execute(
                f"UPDATE time_entries SET end_at = $2, updated_at = $3, version = version + 1 "
                f"WHERE {RUNNING}",
                caller.user_id,
                start_at,
                now(),
            )
        elif await db.fetchval(f"SELECT 1 FROM time_entries WHERE {RUNNING}", caller.user_id):
            raise Problem(409, RUNNING_CONFLICT)
    if caller.prevent_overlaps:
        args: list[Any] = [caller.workspace_id, caller.user_id, start_at]
        ends_before = ""
        if end_at is not None:
            args.append(end_at)
            ends_before = "AND start_at < $4"
        overlap = await db.fetchval(
            "SELECT id FROM time_entries WHERE workspace_id = $1 AND user_id = $2 "
            f"AND deleted_at IS NULL AND (end_at IS NULL OR end_at > $3) {ends_before} "
            "ORDER BY start_at LIMIT 1",
            *args,
        )
        if overlap is not None:
            raise Problem(409, f"The entry would overlap time entry {overlap}.")


async def insert_entry(
    db: asyncpg.Connection,
    caller: Caller,
    values: dict[str, Any],
    tag_ids: list[str],
    start_at: datetime,
    end_at: datetime | None,
    *,
    source: str,
    stop_running: bool = False,
) -> asyncpg.Record:
    try:
        async with db.transaction():
            await claim(db, caller, start_at, end_at, stop_running=stop_running)
            row = await db.fetchrow(
                INSERT_ENTRY,
                str(uuid.uuid4()),
                caller.workspace_id,
                caller.user_id,
                values["project_id"],
                values["description"],
                start_at,
                end_at,
                values["billable"],
                values["hourly_rate_cents"],
                source,
                now(),
            )
            if tag_ids:
                await db.execute(INSERT_TAGS, row["id"], tag_ids, caller.workspace_id)
    except asyncpg.UniqueViolationError as exc:
        raise Problem(409, RUNNING_CONFLICT) from exc
    return row


# Routes


async def list_entries(request: Request, db: asyncpg.Connection, caller: Caller) -> Response:
    try:
        limit = int(request.query_params.get("limit", 50))
    except ValueError as exc:
        raise Problem(422, "limit must be an integer.") from exc
    if not 1 <= limit <= MAX_LIMIT:
        raise Problem(422, f"limit must be between 1 and {MAX_LIMIT}.")
    conditions, args = ["workspace_id = $1", "deleted_at IS NULL"], [caller.workspace_id]
    if caller.viewer:
        args.append(caller.viewer)
        conditions.append(f"user_id = ${len(args)}")
    if cursor := request.query_params.get("cursor"):
        args.extend(decode_cursor(cursor))
        at, after = len(args) - 1, len(args)
        # Spelled out as the API spells it, so both run the same plan.
        conditions.append(f"start_at <= ${at} AND (start_at < ${at} OR id < ${after})")
    args.append(limit + 1)
    rows = await db.fetch(
        f"SELECT {ENTRY_COLUMNS} FROM time_entries WHERE {' AND '.join(conditions)} "
        f"ORDER BY start_at DESC, id DESC LIMIT ${len(args)}",
        *args,
    )
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    rows = rows[:limit]
    tags = await tags_of(db, [row["id"] for row in rows])
    items = [render(row, tags[row["id"]], caller) for row in rows]
    return json_response({"items": items, "next_cursor": next_cursor, "total": None})


async def get_entry(request: Request, db: asyncpg.Connection, caller: Caller) -> Response:
    row = await fetch_entry(db, caller, request.path_params["entry_id"], include_deleted=True)
    return await entry_response(db, row, caller)


async def create_entry(request: Request, db: asyncpg.Connection, caller: Caller) -> Response:
    body = await json_body(
        request, {"project_id", "tag_ids", "description", "billable", "start_at", "end_at"}
    )
    start_at = as_time(body.get("start_at"), "start_at")
    end_at = as_time(body["end_at"], "end_at") if body.get("end_at") is not None else None
    if end_at is not None and end_at <= start_at:
        raise Problem(422, "end_at must be after start_at.")
    if end_at is None and start_at > now():
        raise Problem(422, "A running entry cannot start in the future.")
    values, tag_ids = await new_entry_values(db, caller, body)
    source = "timer" if end_at is None else "manual"
    row = await insert_entry(db, caller, values, tag_ids, start_at, end_at, source=source)
    return await entry_response(db, row, caller, 201)


async def update_entry(request: Request, db: asyncpg.Connection, caller: Caller) -> Response:
    body = await json_body(request, {"description"})
    row = await fetch_entry(db, caller, request.path_params["entry_id"])
    if_match = request.headers.get("if-match")
    if if_match is not None and if_match.strip() != "*":
        offered = [tag.strip().removeprefix("W/") for tag in if_match.split(",")]
        if f'"{row["version"]}"' not in offered:
            raise Problem(412, "The resource has changed since it was read.")
    description = as_description(body.get("description", row["description"]))
    if description != row["description"]:
        row = await db.fetchrow(
            "UPDATE time_entries SET description = $1, updated_at = $2, version = version + 1 "
            f"WHERE id = $3 AND version = $4 RETURNING {ENTRY_COLUMNS}",
            description,
            now(),
            row["id"],
            row["version"],
        )
        if row is None:
            raise Problem(412, "The resource was changed by another request.")
    return await entry_response(db, row, caller)


async def start_timer(request: Request, db: asyncpg.Connection, caller: Caller) -> Response:
    body = await json_body(request, {"project_id", "tag_ids", "description", "billable"})
    values, tag_ids = await new_entry_values(db, caller, body)
    row = await insert_entry(
        db, caller, values, tag_ids, now(), None, source="timer", stop_running=True
    )
    return await entry_response(db, row, caller, 201)


async def stop_timer(request: Request, db: asyncpg.Connection, caller: Caller) -> Response:
    async with db.transaction():
        await db.execute(LOCK_USER, caller.user_id)
        row = await db.fetchrow(
            "UPDATE time_entries SET end_at = $2, updated_at = $2, version = version + 1 "
            f"WHERE {RUNNING} AND workspace_id = $3 RETURNING {ENTRY_COLUMNS}",
            caller.user_id,
            now(),
            caller.workspace_id,
        )
    if row is None:
        raise Problem(404, "No time entry is running in this workspace.")
    return await entry_response(db, row, caller)


async def readyz(request: Request) -> Response:
    async with request.app.state.pool.acquire() as db:
        await db.fetchval("SELECT 1")
    return json_response({"status": "ok"})


async def _init_connection(connection: asyncpg.Connection) -> None:
    # UUIDs as text: they go straight from queries into JSON and back.
    await connection.set_type_codec(
        "uuid", encoder=str, decoder=str, schema="pg_catalog", format="text"
    )


def create_app() -> Starlette:
    database_url = os.environ["BENCH_DATABASE_URL"]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # The real API's pool: 10 connections, 10 more under load.
        async with asyncpg.create_pool(
            database_url, min_size=10, max_size=20, init=_init_connection
        ) as pool:
            app.state.pool = pool
            yield

    entries = f"{WORKSPACE}/time-entries"
    app = Starlette(
        routes=[
            Route("/readyz", readyz),
            Route(entries, endpoint(list_entries), methods=["GET"]),
            Route(entries, endpoint(create_entry), methods=["POST"]),
            Route(f"{entries}/{{entry_id:uuid}}", endpoint(get_entry), methods=["GET"]),
            Route(f"{entries}/{{entry_id:uuid}}", endpoint(update_entry), methods=["PATCH"]),
            Route(f"{WORKSPACE}/timer/start", endpoint(start_timer), methods=["POST"]),
            Route(f"{WORKSPACE}/timer/stop", endpoint(stop_timer), methods=["POST"]),
        ],
        lifespan=lifespan,
    )
    app.state.secret_key = os.environ["BENCH_SECRET_KEY"]
    return app
