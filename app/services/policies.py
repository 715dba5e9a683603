"""Every "may this caller ...?" question, answered in one place.

Roles in a workspace: the owner (one person, `Workspace.owner_user_id`, whose membership has
the role `owner`) may do everything, including deleting the workspace and handing it over;
admins manage members, the catalog, rates and everyone's entries; members see public projects
and the private ones they belong to, and track, read and report their own time. Rates and
amounts show to admins and owners, and to members where `members_can_see_rates` is on.

`Forbidden` means the caller is a member without the right; callers outside a workspace
never reach these questions (they get "not found" before).
"""

import uuid

from app.enums import EntrySource, Role
from app.errors import Forbidden
from app.services.caller import Caller, SignIn

_MANAGERS = frozenset({Role.OWNER, Role.ADMIN})


def is_admin(caller: Caller) -> bool:
    """An admin or the owner: sees and manages everything in the workspace."""
    return caller.role in _MANAGERS


def is_owner(caller: Caller) -> bool:
    return caller.role is Role.OWNER


def require_admin(caller: Caller) -> None:
    if not is_admin(caller):
        raise Forbidden("Your role in this workspace does not allow this.")


def require_owner(caller: Caller) -> None:
    if not is_owner(caller):
        raise Forbidden("Only the workspace's owner can do this.")


def may_see_rates(caller: Caller) -> bool:
    """Whether rates and amounts show in what this caller reads: entries, projects, members,
    the workspace's default rate, and reports."""
    workspace = caller.workspace
    if workspace is None:
        return False
    return is_admin(caller) or workspace.members_can_see_rates


def project_viewer(caller: Caller) -> uuid.UUID | None:
    """Whose project visibility narrows what the caller reads: None sees every project;
    otherwise the public projects and the private ones that user belongs to."""
    return None if is_admin(caller) else caller.user_id


def entry_viewer(caller: Caller) -> uuid.UUID | None:
    """Whose entries the caller reads and reports on: None for everyone's, else their own."""
    return None if is_admin(caller) else caller.user_id


def event_viewer(caller: Caller) -> uuid.UUID | None:
    """Whose events the caller reads: None for all of them; for a member, the events of
    their own entries and of the catalog they can see."""
    return entry_viewer(caller)


def may_track_for(caller: Caller, user_id: uuid.UUID) -> None:
    """Members track their own time; admins anyone's."""
    if user_id != caller.user_id and not is_admin(caller):
        raise Forbidden("Members can only track their own time.")


def may_manage_member(caller: Caller, current: Role | None, new: Role | None) -> None:
    """Admins manage members and admins; only the owner changes what touches the owner."""
    require_admin(caller)
    if Role.OWNER in (current, new) and not is_owner(caller):
        raise Forbidden("Only the workspace's owner can change the owner's membership.")


def may_decide_approval(caller: Caller, user_id: uuid.UUID) -> None:
    """Admins and the owner approve or reject periods; nobody decides on their own time but
    the owner, who has nobody above them."""
    require_admin(caller)
    if user_id == caller.user_id and not is_owner(caller):
        raise Forbidden("Another admin or the owner decides on your own period.")


def may_remove_member(caller: Caller, user_id: uuid.UUID, role: Role) -> None:
    """Anyone may leave; removing someone else takes the right to manage them."""
    if user_id != caller.user_id:
        may_manage_member(caller, role, None)


def source_of_writes(caller: Caller) -> EntrySource:
    """What a finished entry written by this caller records as its source."""
    return EntrySource.API if caller.signed_in_with is SignIn.API_TOKEN else EntrySource.MANUAL


def require_password_session(caller: Caller) -> None:
    """Credentials that outlive a session are made only by someone signed in with their
    password, so that a stolen API token cannot mint itself a successor."""
    if caller.signed_in_with is not SignIn.SESSION:
        raise Forbidden("API tokens are created when signed in with a password, not with a token.")
