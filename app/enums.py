"""Domain enumerations, shared by models, schemas and the OpenAPI document."""

from enum import StrEnum


class Role(StrEnum):
    """A member's standing in a workspace: its one owner, admins who manage it, or members."""

    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


class WeekStart(StrEnum):
    """The first day of a week in reports."""

    MONDAY = "monday"
    SUNDAY = "sunday"


class ProjectVisibility(StrEnum):
    """Who sees a project: every member, or only admins and the project's members."""

    PUBLIC = "public"
    PRIVATE = "private"


class EntrySource(StrEnum):
    """How an entry was written: by hand, by the timer, by an import, or with an API token."""

    MANUAL = "manual"
    TIMER = "timer"
    IMPORT = "import"
    API = "api"


class ImportFormat(StrEnum):
    """Whose export a file is: Toggl's or Clockify's detailed CSV, or this API's own CSV."""

    TOGGL_CSV = "toggl_csv"
    CLOCKIFY_CSV = "clockify_csv"
    NATIVE_CSV = "native_csv"


class ImportStatus(StrEnum):
    """Where an import run is."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class AttemptKind(StrEnum):
    """What an attempt counter counts, and per what."""

    # Sign-ins (and password checks) per account email; a success clears it.
    SIGN_IN_ACCOUNT = "sign_in_account"
    # Failed sign-ins per client address, whatever the account.
    SIGN_IN_ADDRESS = "sign_in_address"
    # Registrations per client address.
    REGISTRATION = "registration"


class InvitationStatus(StrEnum):
    """Where an invitation stands: waiting for its invitee, or answered or withdrawn."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    REVOKED = "revoked"


class EventOrigin(StrEnum):
    """How a change came: through the API, the `timesheet` command, or an import."""

    API = "api"
    CLI = "cli"
    IMPORT = "import"


class DeliveryStatus(StrEnum):
    """Where a webhook delivery stands: owed, being sent, received, given up or passed over."""

    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"
    FAILED = "failed"
    # Not sent: the webhook's creator may not read the event (any more), or it was pruned.
    SKIPPED = "skipped"
