"""The policies module answers every "may this caller ...?" question; no HTTP, no database."""

import uuid

import pytest

from app.db.models import Membership, User, Workspace
from app.enums import EntrySource, Role
from app.errors import Forbidden
from app.services import policies
from app.services.caller import Caller, SignIn


def caller(
    role: Role | None,
    *,
    members_see_rates: bool = False,
    signed_in_with: SignIn = SignIn.SESSION,
) -> Caller:
    user = User(id=uuid.uuid4(), email="someone@example.com")
    found = Caller(user, signed_in_with)
    if role is None:
        return found
    workspace = Workspace(id=uuid.uuid4(), members_can_see_rates=members_see_rates)
    return found.in_workspace(workspace, Membership(user_id=user.id, role=role))


@pytest.mark.parametrize(
    ("role", "admin", "owner"),
    [(Role.OWNER, True, True), (Role.ADMIN, True, False), (Role.MEMBER, False, False)],
)
def test_roles(role: Role, admin: bool, owner: bool) -> None:
    who = caller(role)
    assert policies.is_admin(who) is admin and policies.is_owner(who) is owner
    if admin:
        policies.require_admin(who)
    else:
        with pytest.raises(Forbidden):
            policies.require_admin(who)
    if not owner:
        with pytest.raises(Forbidden):
            policies.require_owner(who)


@pytest.mark.parametrize(
    ("role", "members_see_rates", "sees"),
    [
        (Role.OWNER, False, True),
        (Role.ADMIN, False, True),
        (Role.MEMBER, False, False),
        (Role.MEMBER, True, True),
        (None, True, False),
    ],
)
def test_rates_show_to_admins_and_to_members_only_when_the_workspace_says(
    role: Role | None, members_see_rates: bool, sees: bool
) -> None:
    assert policies.may_see_rates(caller(role, members_see_rates=members_see_rates)) is sees


def test_members_read_and_track_only_their_own_time() -> None:
    member, admin = caller(Role.MEMBER), caller(Role.ADMIN)
    assert policies.entry_viewer(member) == member.user_id
    assert policies.project_viewer(member) == member.user_id
    assert policies.entry_viewer(admin) is None and policies.project_viewer(admin) is None
    policies.may_track_for(member, member.user_id)
    policies.may_track_for(admin, uuid.uuid4())
    with pytest.raises(Forbidden):
        policies.may_track_for(member, uuid.uuid4())


@pytest.mark.parametrize(
    ("role", "current", "new", "allowed"),
    [
        (Role.ADMIN, Role.MEMBER, Role.ADMIN, True),
        (Role.ADMIN, Role.ADMIN, Role.MEMBER, True),
        (Role.ADMIN, Role.OWNER, None, False),
        (Role.ADMIN, None, Role.OWNER, False),
        (Role.OWNER, Role.OWNER, None, True),
        (Role.MEMBER, Role.MEMBER, None, False),
    ],
)
def test_who_manages_whom(
    role: Role, current: Role | None, new: Role | None, allowed: bool
) -> None:
    if allowed:
        policies.may_manage_member(caller(role), current, new)
    else:
        with pytest.raises(Forbidden):
            policies.may_manage_member(caller(role), current, new)


def test_anyone_may_leave_but_only_managers_remove_others() -> None:
    member = caller(Role.MEMBER)
    policies.may_remove_member(member, member.user_id, Role.MEMBER)
    with pytest.raises(Forbidden):
        policies.may_remove_member(member, uuid.uuid4(), Role.MEMBER)
    policies.may_remove_member(caller(Role.ADMIN), uuid.uuid4(), Role.MEMBER)


def test_entries_written_with_an_api_token_say_so() -> None:
    assert policies.source_of_writes(caller(Role.MEMBER)) is EntrySource.MANUAL
    scripted = caller(Role.MEMBER, signed_in_with=SignIn.API_TOKEN)
    assert policies.source_of_writes(scripted) is EntrySource.API
