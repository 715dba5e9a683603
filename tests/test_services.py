"""The services' rules, called as the CLI and the importer call them: no HTTP in between."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.db.engine import Sessions
from app.db.models import ApiToken, ProjectMember, RefreshToken, Tag, User, Workspace
from app.db.types import utcnow
from app.db.unit_of_work import UnitOfWork
from app.enums import AttemptKind, EntrySource, ProjectVisibility, Role
from app.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    ReferenceMissing,
)
from app.repositories.memberships import MembershipRepository
from app.repositories.tags import TagRepository
from app.repositories.time_entries import RUNNING_CONFLICT
from app.repositories.workspaces import WorkspaceRepository
from app.services.accounts import AccountService, authenticate
from app.services.caller import Caller, SignIn
from app.services.catalog import ClientService, ProjectMemberService, ProjectService
from app.services.time_entries import TimeEntryService
from app.services.workspaces import WorkspaceService
from tests.factories import (
    DEFAULT_PASSWORD,
    Team,
    attempts_of,
    make_client,
    make_entry,
    make_project,
    make_project_member,
    make_user,
)
from tests.tracking import at

HOUR = timedelta(hours=1)


async def in_workspace(
    session: AsyncSession,
    workspace: Workspace,
    user: User,
    signed_in_with: SignIn = SignIn.SESSION,
) -> Caller:
    found = await WorkspaceRepository(session).get_membership(workspace.id, user.id)
    assert found is not None
    return Caller(user, signed_in_with).in_workspace(*found)


def entry(start: float, end: float | None, **values: object) -> dict[str, object]:
    return {"start_at": at(start), "end_at": at(end) if end is not None else None, **values}


# The unit of work


async def test_the_unit_of_work_commits_what_succeeds_and_keeps_records_of_what_fails(
    sessions: Sessions, sessionmaker: async_sessionmaker[AsyncSession], team: Team
) -> None:
    workspace_id = team.workspace.id
    async with UnitOfWork(sessions) as uow:
        await TagRepository(uow.session, workspace_id).create(name="committed")
    with pytest.raises(Conflict):
        async with UnitOfWork(sessions) as uow:
            await TagRepository(uow.session, workspace_id).create(name="rolled back")
            uow.keep_regardless(
                lambda session: TagRepository(session, workspace_id).create(name="kept")
            )
            raise Conflict("refused")
    async with sessionmaker() as session:
        names = set(await session.scalars(select(Tag.name).where(Tag.workspace_id == workspace_id)))
    assert names == {"committed", "kept"}


# Time entries


async def test_members_track_only_their_own_time(session: AsyncSession, team: Team) -> None:
    member = await in_workspace(session, team.workspace, team.member)
    tracking = TimeEntryService(session, member)
    with pytest.raises(Forbidden):
        await tracking.create(entry(9, 10, user_id=team.admin.id))
    admin = TimeEntryService(session, await in_workspace(session, team.workspace, team.admin))
    created = await admin.create(entry(9, 10, user_id=team.member.id))
    assert created.user_id == team.member.id and created.source is EntrySource.MANUAL
    with pytest.raises(ReferenceMissing) as refused:
        await admin.create(entry(9, 10, user_id=team.outsider.id))
    assert refused.value.problems[0].field == ("user_id",)


async def test_one_running_entry_and_no_overlaps_where_forbidden(
    session: AsyncSession, team: Team
) -> None:
    team.workspace.prevent_overlaps = True
    tracking = TimeEntryService(session, await in_workspace(session, team.workspace, team.member))
    await tracking.create(entry(9, 10))
    await tracking.create(entry(10, 11))  # touching is fine
    with pytest.raises(Conflict) as overlap:
        await tracking.create(entry(10.5, 12))
    assert "overlap" in overlap.value.detail
    await tracking.create(entry(12, None))
    with pytest.raises(Conflict) as running:
        await tracking.create(entry(13, None))
    assert running.value.detail == RUNNING_CONFLICT


async def test_the_rate_snapshot_follows_the_precedence(session: AsyncSession, team: Team) -> None:
    team.workspace.default_hourly_rate_cents = 1000
    membership = await MembershipRepository(session, team.workspace.id).get_by_user(team.member.id)
    membership.hourly_rate_cents = 2000
    rated = await make_project(session, team.workspace, hourly_rate_cents=3000)
    personal = await make_project(session, team.workspace, hourly_rate_cents=3000)
    await make_project_member(session, personal, team.member, hourly_rate_cents=4000)
    plain = await make_project(session, team.workspace)
    tracking = TimeEntryService(session, await in_workspace(session, team.workspace, team.member))
    rates = [
        (await tracking.create(entry(hour, hour + 1, project_id=project_id))).hourly_rate_cents
        for hour, project_id in [(9, personal.id), (10, rated.id), (11, plain.id), (12, None)]
    ]
    # Without a project an entry is not billable unless it says so.
    assert rates == [4000, 3000, 2000, None]
    unassigned = await tracking.create(entry(13, 14, billable=True))
    assert unassigned.hourly_rate_cents == 2000


async def test_archived_and_invisible_projects_take_no_new_time(
    session: AsyncSession, team: Team
) -> None:
    archived = await make_project(session, team.workspace, archived_at=utcnow())
    private = await make_project(session, team.workspace, visibility=ProjectVisibility.PRIVATE)
    tracking = TimeEntryService(session, await in_workspace(session, team.workspace, team.member))
    with pytest.raises(Conflict):
        await tracking.create(entry(9, 10, project_id=archived.id))
    with pytest.raises(ReferenceMissing):
        await tracking.create(entry(9, 10, project_id=private.id))


async def test_entries_written_with_an_api_token_record_it(
    session: AsyncSession, team: Team
) -> None:
    caller = await in_workspace(session, team.workspace, team.member, SignIn.API_TOKEN)
    tracking = TimeEntryService(session, caller)
    assert (await tracking.create(entry(9, 10))).source is EntrySource.API
    assert (await tracking.create(entry(11, None))).source is EntrySource.TIMER


async def test_a_bulk_change_refuses_one_entry_and_keeps_the_others(
    session: AsyncSession, team: Team
) -> None:
    team.workspace.prevent_overlaps = True
    first = await make_entry(session, team.workspace, team.member, start_at=at(9), end_at=at(10))
    second = await make_entry(
        session, team.workspace, team.member, start_at=at(9, day=1), end_at=at(10, day=1)
    )
    tracking = TimeEntryService(session, await in_workspace(session, team.workspace, team.admin))
    described = await tracking.bulk_update([first.id, second.id], {"description": "moved"})
    assert [outcome.error for outcome in described] == [None, None]
    # Both would start at 9:30 on the first day: the second then overlaps the first.
    moved = await tracking.bulk_update([first.id, second.id], {"start_at": at(9.5)})
    assert moved[0].error is None and moved[0].entry is not None
    assert moved[0].entry.start_at == at(9.5)
    assert isinstance(moved[1].error, Conflict) and moved[1].entry is None
    await session.refresh(second)
    assert second.start_at == at(9, day=1) and second.description == "moved"


# Workspaces and members


async def test_a_workspace_has_one_owner(session: AsyncSession, team: Team) -> None:
    owner = WorkspaceService(session, await in_workspace(session, team.workspace, team.owner))
    newcomer = await make_user(session)
    with pytest.raises(InvalidInput) as refused:
        await owner.invite(newcomer.email, Role.OWNER, None)
    assert refused.value.problems[0].field == ("role",)
    members = MembershipRepository(session, team.workspace.id)
    with pytest.raises(Conflict):
        await owner.remove_member(await members.get_by_user(team.owner.id))
    with pytest.raises(Conflict):
        await owner.update_member(await members.get_by_user(team.owner.id), {"role": Role.ADMIN})

    handed_over = await owner.transfer_ownership(team.member.id)
    assert handed_over.role is Role.ADMIN
    assert team.workspace.owner_user_id == team.member.id
    roles = {m.user_id: m.role for m in await session.scalars(members.select())}
    assert [user for user, role in roles.items() if role is Role.OWNER] == [team.member.id]


async def test_removing_a_member_takes_them_off_every_project(
    session: AsyncSession, team: Team
) -> None:
    private = await make_project(session, team.workspace, visibility=ProjectVisibility.PRIVATE)
    await make_project_member(session, private, team.member)
    admin = WorkspaceService(session, await in_workspace(session, team.workspace, team.admin))
    membership = await MembershipRepository(session, team.workspace.id).get_by_user(team.member.id)
    await admin.remove_member(membership)
    left = select(func.count()).where(ProjectMember.user_id == team.member.id)
    assert await session.scalar(left) == 0


async def test_members_leave_but_do_not_manage(session: AsyncSession, team: Team) -> None:
    member = WorkspaceService(session, await in_workspace(session, team.workspace, team.member))
    members = MembershipRepository(session, team.workspace.id)
    with pytest.raises(Forbidden):
        await member.update_member(await members.get_by_user(team.admin.id), {"role": "member"})
    with pytest.raises(Forbidden):
        await member.update({"name": "Mine now"})
    await member.remove_member(await members.get_by_user(team.member.id))
    assert await members.find_by_user(team.member.id) is None


# The catalog


async def test_archiving_keeps_the_first_moment(session: AsyncSession, team: Team) -> None:
    clients = ClientService(session, await in_workspace(session, team.workspace, team.admin))
    client = await clients.create({"name": "Acme"})
    archived = await clients.update(client, {"archived": True})
    first = archived.archived_at
    assert first is not None
    assert (await clients.update(client, {"archived": True})).archived_at == first
    assert (await clients.update(client, {"archived": False})).archived_at is None


async def test_projects_need_a_live_open_client(session: AsyncSession, team: Team) -> None:
    projects = ProjectService(session, await in_workspace(session, team.workspace, team.admin))
    archived = await make_client(session, team.workspace, archived_at=utcnow())
    with pytest.raises(Conflict):
        await projects.create({"name": "On hold", "client_id": archived.id})
    foreign = await make_client(session, team.other_workspace)
    with pytest.raises(ReferenceMissing) as refused:
        await projects.create({"name": "Elsewhere", "client_id": foreign.id})
    assert refused.value.problems[0].field == ("client_id",)
    created = await projects.create({"name": "Fine"})
    assert created.created_by_user_id == team.admin.id


async def test_only_workspace_members_join_projects_and_only_admins_add_them(
    session: AsyncSession, team: Team
) -> None:
    project = await make_project(session, team.workspace)
    admin = ProjectMemberService(session, await in_workspace(session, team.workspace, team.admin))
    with pytest.raises(ReferenceMissing) as refused:
        await admin.create({"project_id": project.id, "user_id": team.outsider.id})
    assert refused.value.problems[0].field == ("user_id",)
    member = ProjectMemberService(session, await in_workspace(session, team.workspace, team.member))
    with pytest.raises(Forbidden):
        await member.create({"project_id": project.id, "user_id": team.member.id})


# Accounts and sessions


async def test_a_refused_sign_in_stays_counted_and_a_success_clears_the_account(
    sessions: Sessions,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    team: Team,
) -> None:
    email = team.member.email
    with pytest.raises(NotAuthenticated):
        async with UnitOfWork(sessions) as uow:
            await AccountService(uow, settings).sign_in(email, "wrong", client_ip="10.0.0.1")
    async with sessionmaker() as session:
        assert await attempts_of(session, AttemptKind.SIGN_IN_ACCOUNT, email) == 1
        assert await attempts_of(session, AttemptKind.SIGN_IN_ADDRESS, "10.0.0.1") == 1
    async with UnitOfWork(sessions) as uow:
        tokens = await AccountService(uow, settings).sign_in(
            email.upper(), DEFAULT_PASSWORD, client_ip="10.0.0.1"
        )
    assert tokens.user.id == team.member.id
    async with sessionmaker() as session:
        assert await attempts_of(session, AttemptKind.SIGN_IN_ACCOUNT, email) == 0
        # The address keeps its failure: only the password tried right is taken back.
        assert await attempts_of(session, AttemptKind.SIGN_IN_ADDRESS, "10.0.0.1") == 1


async def test_a_reused_refresh_token_revokes_its_family_although_refused(
    sessions: Sessions,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    team: Team,
) -> None:
    async with UnitOfWork(sessions) as uow:
        first = await AccountService(uow, settings).sign_in(
            team.member.email, DEFAULT_PASSWORD, client_ip="10.0.0.2"
        )
    async with UnitOfWork(sessions) as uow:
        await AccountService(uow, settings).refresh(first.refresh_token)
    with pytest.raises(NotAuthenticated):
        async with UnitOfWork(sessions) as uow:
            await AccountService(uow, settings).refresh(first.refresh_token)
    async with sessionmaker() as session:
        live = select(func.count()).where(
            RefreshToken.user_id == team.member.id, RefreshToken.revoked_at.is_(None)
        )
        assert await session.scalar(live) == 0


async def test_a_wrong_current_password_is_refused_and_counted(
    sessions: Sessions,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    team: Team,
) -> None:
    caller = Caller(team.member, SignIn.SESSION)
    with pytest.raises(Forbidden):
        async with UnitOfWork(sessions) as uow:
            await AccountService(uow, settings).change_password(
                caller, "wrong", "a-new-password", client_ip="10.0.0.3"
            )
    async with sessionmaker() as session:
        counted = await attempts_of(session, AttemptKind.SIGN_IN_ACCOUNT, team.member.email)
        assert counted == 1


async def test_api_token_use_is_recorded_at_most_once_a_minute(
    sessions: Sessions,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    team: Team,
) -> None:
    async with UnitOfWork(sessions) as uow:
        token, secret = await AccountService(uow, settings).issue_api_token(
            Caller(team.member, SignIn.SESSION), "script", None
        )
    last_used = select(ApiToken.last_used_at).where(ApiToken.id == token.id)

    async def use() -> object:
        async with UnitOfWork(sessions) as uow:
            caller = await authenticate(uow, settings, secret)
            assert caller.user.id == team.member.id
            assert caller.signed_in_with is SignIn.API_TOKEN
        async with sessionmaker() as session:
            return await session.scalar(last_used)

    first = await use()
    assert first is not None
    assert await use() == first
    async with sessionmaker() as session:
        earlier = utcnow() - timedelta(minutes=2)
        await session.execute(
            update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=earlier)
        )
        await session.commit()
    assert await use() not in (first, None)
