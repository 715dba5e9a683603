"""The demo seed writes through the same rules as the API: rates and overlaps."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Project, TimeEntry, User
from app.seed import seed_demo
from app.services.entry_rules import overlaps

MONDAY = datetime(2024, 4, 22, tzinfo=UTC)


async def test_seeding_later_keeps_clear_of_time_tracked_meanwhile(session: AsyncSession) -> None:
    await seed_demo(session, today=MONDAY)
    ada = (await session.scalars(select(User).where(User.email == "ada@example.com"))).one()
    workspace_id = (await session.scalars(select(Project.workspace_id))).first()
    tuesday_nine = MONDAY + timedelta(days=1, hours=9)
    tracked = TimeEntry(
        workspace_id=workspace_id,
        user_id=ada.id,
        start_at=tuesday_nine + timedelta(minutes=30),
        end_at=tuesday_nine + timedelta(minutes=45),
    )
    session.add(tracked)
    await session.flush()

    await seed_demo(session, today=MONDAY + timedelta(days=3))
    rows = await session.execute(
        select(TimeEntry.id, TimeEntry.start_at, TimeEntry.end_at).where(
            TimeEntry.user_id == ada.id, TimeEntry.start_at >= MONDAY + timedelta(days=1)
        )
    )
    seeded = {start: end for entry_id, start, end in rows if entry_id != tracked.id}
    # Tuesday's 9:00 block would overlap what Ada tracked; the rest of the days came in.
    assert tuesday_nine not in seeded and tuesday_nine + timedelta(hours=2) in seeded
    assert tuesday_nine + timedelta(days=1) in seeded
    assert not any(overlaps(s, e, tracked.start_at, tracked.end_at) for s, e in seeded.items())


async def test_seeded_rates_follow_the_precedence(session: AsyncSession) -> None:
    await seed_demo(session, today=MONDAY)
    rows = await session.execute(
        select(User.email, Project.name, TimeEntry.billable, TimeEntry.hourly_rate_cents)
        .join(User, User.id == TimeEntry.user_id)
        .join(Project, Project.id == TimeEntry.project_id)
    )
    project_rates = {"Website Redesign": 10000, "Data Pipeline": 12000}
    for _email, project, billable, rate in rows:
        assert rate == (project_rates[project] if billable else None)
