"""Demo data for a first start: one workspace, three people and a few weeks of entries.

Every row has a fixed id and is inserted with ON CONFLICT DO NOTHING, so seeding again
(on any day) adds nothing.
"""

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import (
    Client,
    Membership,
    Project,
    ProjectMember,
    Tag,
    Task,
    TimeEntry,
    User,
    Workspace,
    time_entry_tags,
)
from app.enums import EntrySource, ProjectVisibility, Role
from app.repositories.upsert import insert_ignoring_conflicts
from app.security import hash_password
from app.services.entry_rules import ProjectFacts, hourly_rate, overlaps

DEMO_PASSWORD = "timesheet-demo"  # noqa: S105 - documented demo credentials
DEMO_WEEKS = 3
DEFAULT_RATE_CENTS = 8000
_NAMESPACE = uuid.UUID("6f1c1c1e-8d7a-4a51-9a53-0f5b8c1d2e3f")


def demo_id(*parts: object) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, ":".join(str(part) for part in parts))


WORKSPACE_ID = demo_id("workspace")
_USERS = [
    ("owner@example.com", "Olivia Owner", Role.OWNER, 9000),
    ("ada@example.com", "Ada Lovelace", Role.ADMIN, 12000),
    ("grace@example.com", "Grace Hopper", Role.MEMBER, None),
]
_CLIENTS = ["Acme Corp", "Globex"]
# name, client, billable, rate, visibility, tasks
_PROJECTS = [
    ("Website Redesign", "Acme Corp", True, 10000, ProjectVisibility.PUBLIC, ["Design", "Build"]),
    ("Data Pipeline", "Globex", True, 12000, ProjectVisibility.PUBLIC, ["ETL", "Monitoring"]),
    ("Internal", None, False, None, ProjectVisibility.PRIVATE, []),
]
_TAGS = ["design", "client-call", "backend", "meeting"]
_DESCRIPTIONS = ["Wireframes", "Review with client", "Fix loader", "Standup", "Deploy", "Docs"]
# Working blocks in UTC: (start hour, minutes)
_BLOCKS = [(9, 90), (11, 60), (13, 150), (16, 45)]


@dataclass(frozen=True)
class SeedResult:
    inserted: int


async def seed_demo(session: AsyncSession, *, today: datetime | None = None) -> SeedResult:
    today = (today or datetime.now(UTC)).astimezone(UTC)
    inserted = 0
    password_hash = await hash_password(DEMO_PASSWORD)
    inserted += await insert_ignoring_conflicts(
        session,
        User.__table__,
        [
            {
                "id": demo_id("user", email),
                "email": email,
                "full_name": name,
                "password_hash": password_hash,
                "is_active": True,
                "timezone": "UTC",
                "week_start": "monday",
                "token_generation": 0,
                "version": 1,
            }
            for email, name, _role, _rate in _USERS
        ],
    )
    emails = [email for email, *_ in _USERS]
    rows = await session.execute(select(User.email, User.id).where(User.email.in_(emails)))
    user_ids = {email: user_id for email, user_id in rows}
    owner_id = user_ids[_USERS[0][0]]

    inserted += await insert_ignoring_conflicts(
        session,
        Workspace.__table__,
        [
            {
                "id": WORKSPACE_ID,
                "name": "Demo Workspace",
                "owner_user_id": owner_id,
                "currency": "USD",
                "default_hourly_rate_cents": DEFAULT_RATE_CENTS,
                "prevent_overlaps": True,
                "members_can_see_rates": False,
                "version": 1,
            }
        ],
    )
    inserted += await insert_ignoring_conflicts(
        session,
        Membership.__table__,
        [
            {
                "id": demo_id("membership", email),
                "workspace_id": WORKSPACE_ID,
                "user_id": user_ids[email],
                "role": role.value,
                "hourly_rate_cents": rate,
                "version": 1,
            }
            for email, _name, role, rate in _USERS
        ],
    )
    inserted += await insert_ignoring_conflicts(
        session,
        Client.__table__,
        [
            {
                "id": demo_id("client", name),
                "workspace_id": WORKSPACE_ID,
                "name": name,
                "version": 1,
            }
            for name in _CLIENTS
        ],
    )
    inserted += await insert_ignoring_conflicts(
        session,
        Project.__table__,
        [
            {
                "id": demo_id("project", name),
                "workspace_id": WORKSPACE_ID,
                "client_id": demo_id("client", client) if client else None,
                "name": name,
                "color": "#0b7285",
                "is_billable": billable,
                "hourly_rate_cents": rate,
                "visibility": visibility.value,
                "created_by_user_id": owner_id,
                "version": 1,
            }
            for name, client, billable, rate, visibility, _tasks in _PROJECTS
        ],
    )
    inserted += await insert_ignoring_conflicts(
        session,
        ProjectMember.__table__,
        [
            {
                "id": demo_id("project-member", project, email),
                "workspace_id": WORKSPACE_ID,
                "project_id": demo_id("project", project),
                "user_id": user_ids[email],
                "version": 1,
            }
            for project, _c, _b, _r, visibility, _t in _PROJECTS
            if visibility is ProjectVisibility.PRIVATE
            for email, *_ in _USERS
        ],
    )
    inserted += await insert_ignoring_conflicts(
        session,
        Task.__table__,
        [
            {
                "id": demo_id("task", project, task),
                "workspace_id": WORKSPACE_ID,
                "project_id": demo_id("project", project),
                "name": task,
                "version": 1,
            }
            for project, _c, _b, _r, _v, tasks in _PROJECTS
            for task in tasks
        ],
    )
    inserted += await insert_ignoring_conflicts(
        session,
        Tag.__table__,
        [
            {"id": demo_id("tag", name), "workspace_id": WORKSPACE_ID, "name": name, "version": 1}
            for name in _TAGS
        ],
    )
    entries, entry_tags = _demo_entries(today, user_ids)
    entries = await _clear_of_tracked_time(session, entries)
    kept = {entry["id"] for entry in entries}
    entry_tags = [link for link in entry_tags if link["time_entry_id"] in kept]
    inserted += await insert_ignoring_conflicts(session, TimeEntry.__table__, entries)
    inserted += await insert_ignoring_conflicts(session, time_entry_tags, entry_tags)
    return SeedResult(inserted=inserted)


def _demo_entries(
    today: datetime, user_ids: dict[str, uuid.UUID]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Weekday entries for the past few weeks, each with a stable id and stable values."""
    member_rates = {email: rate for email, _name, _role, rate in _USERS}
    entries: list[dict[str, Any]] = []
    entry_tags: list[dict[str, Any]] = []
    for email, *_ in _USERS:
        for days_ago in range(1, DEMO_WEEKS * 7 + 1):
            day = (today - timedelta(days=days_ago)).date()
            if day.weekday() >= 5:
                continue
            for block, (hour, minutes) in enumerate(_BLOCKS):
                # Keyed by date, not by "days ago": a later seed adds only the days since.
                key = (email, day.isoformat(), block)
                chooser = random.Random(":".join(map(str, key)))  # noqa: S311 - demo data only
                project, _client, billable, project_rate, _vis, tasks = chooser.choice(_PROJECTS)
                start = datetime.combine(day, time(hour), tzinfo=UTC)
                entry_id = demo_id("entry", *key)
                facts = ProjectFacts(
                    id=demo_id("project", project),
                    is_billable=billable,
                    hourly_rate_cents=project_rate,
                    member_rate_cents=None,
                    visible=True,
                    archived=False,
                    deleted=False,
                )
                entries.append(
                    {
                        "id": entry_id,
                        "workspace_id": WORKSPACE_ID,
                        "user_id": user_ids[email],
                        "project_id": demo_id("project", project),
                        "task_id": demo_id("task", project, chooser.choice(tasks))
                        if tasks
                        else None,
                        "description": chooser.choice(_DESCRIPTIONS),
                        "start_at": start,
                        "end_at": start + timedelta(minutes=minutes),
                        "billable": billable,
                        "hourly_rate_cents": hourly_rate(
                            billable=billable,
                            project=facts,
                            member_rate_cents=member_rates[email],
                            default_rate_cents=DEFAULT_RATE_CENTS,
                        ),
                        "source": EntrySource.MANUAL.value,
                        "version": 1,
                    }
                )
                tag = chooser.choice([*_TAGS, None])
                if tag:
                    entry_tags.append(
                        {
                            "time_entry_id": entry_id,
                            "tag_id": demo_id("tag", tag),
                            "workspace_id": WORKSPACE_ID,
                        }
                    )
    return entries, entry_tags


async def _clear_of_tracked_time(
    session: AsyncSession, entries: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The demo entries that overlap no entry the demo users tracked themselves (running
    ones included): seeding again must not break the running and overlap rules."""
    if not entries:
        return entries
    earliest = min(entry["start_at"] for entry in entries)
    tracked = await session.execute(
        select(TimeEntry.user_id, TimeEntry.start_at, TimeEntry.end_at).where(
            TimeEntry.workspace_id == WORKSPACE_ID,
            TimeEntry.deleted_at.is_(None),
            TimeEntry.id.not_in([entry["id"] for entry in entries]),
            or_(TimeEntry.end_at.is_(None), TimeEntry.end_at > earliest),
        )
    )
    by_user: dict[uuid.UUID, list[tuple[datetime, datetime | None]]] = {}
    for user_id, start_at, end_at in tracked:
        by_user.setdefault(user_id, []).append((start_at, end_at))
    return [
        entry
        for entry in entries
        if not any(
            overlaps(entry["start_at"], entry["end_at"], start_at, end_at)
            for start_at, end_at in by_user.get(entry["user_id"], ())
        )
    ]
