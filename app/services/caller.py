"""Who is asking: the one object every service and policy takes to know the caller."""

import uuid
from dataclasses import dataclass, replace
from enum import StrEnum

from app.db.models import Membership, Workspace
from app.enums import Role
from app.repositories.standing import MembershipRow, UserRow, WorkspaceRow


class SignIn(StrEnum):
    """How the caller proved who they are."""

    # An access token from /auth/token: a person in a browser or an app.
    SESSION = "session"
    # A personal API token: a script or an integration.
    API_TOKEN = "api_token"  # noqa: S105 - a kind of credential, not one
    # An operator at the `timesheet` command, acting as the workspace's owner.
    COMMAND_LINE = "command_line"
    # A shared report's link, read with the rights of the member who shared it.
    SHARED_LINK = "shared_link"
    # A webhook's dispatcher, reading with the standing of the webhook's creator.
    WEBHOOK = "webhook"
    # An upload's import, run in the background with the standing of who uploaded it.
    IMPORT = "import"


@dataclass(frozen=True, slots=True)
class Caller:
    """The user behind a request and, inside a workspace, their membership in it.

    Built by authentication; `in_workspace` is the only way to give it a workspace, so a
    caller's standing is assembled in one place. It holds plain rows, read once: given ORM
    objects, it keeps their values, never the objects.
    """

    user: UserRow
    signed_in_with: SignIn
    workspace: WorkspaceRow | None = None
    membership: MembershipRow | None = None
    # The personal API token presented, when the caller signed in with one.
    api_token_id: uuid.UUID | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "user", UserRow.of(self.user))

    @property
    def user_id(self) -> uuid.UUID:
        return self.user.id

    @property
    def role(self) -> Role | None:
        return self.membership.role if self.membership is not None else None

    def in_workspace(
        self, workspace: Workspace | WorkspaceRow, membership: Membership | MembershipRow
    ) -> "Caller":
        return replace(
            self, workspace=WorkspaceRow.of(workspace), membership=MembershipRow.of(membership)
        )

    def current_workspace(self) -> WorkspaceRow:
        """The workspace this caller acts in; only workspace-bound services ask."""
        if self.workspace is None:
            raise LookupError("this caller acts in no workspace")
        return self.workspace

    def current_membership(self) -> MembershipRow:
        if self.membership is None:
            raise LookupError("this caller acts in no workspace")
        return self.membership
