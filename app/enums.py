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
    """Whose export a file is and what it holds: time entries (Toggl's, Clockify's or
    Harvest's detailed report, or this API's own CSV) or the catalog (Harvest's clients or
    projects, Toggl's account data)."""

    TOGGL_CSV = "toggl_csv"
    CLOCKIFY_CSV = "clockify_csv"
    NATIVE_CSV = "native_csv"
    HARVEST_CSV = "harvest_csv"
    HARVEST_CLIENTS_CSV = "harvest_clients_csv"
    HARVEST_PROJECTS_CSV = "harvest_projects_csv"
    TOGGL_ACCOUNT_ZIP = "toggl_account_zip"

    @property
    def is_catalog(self) -> bool:
        """Whether the file holds clients, projects and the like rather than time entries."""
        return self in _CATALOG_FORMATS


_CATALOG_FORMATS = frozenset(
    {
        ImportFormat.HARVEST_CLIENTS_CSV,
        ImportFormat.HARVEST_PROJECTS_CSV,
        ImportFormat.TOGGL_ACCOUNT_ZIP,
    }
)


class ImportStatus(StrEnum):
    """Where an import run is: waiting for a runner, being run, done, or stopped midway
    (resumed from its last committed batch)."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


class AttemptKind(StrEnum):
    """What an attempt counter counts, and per what."""

    # Sign-ins (and password checks) per account email; a success clears it.
    SIGN_IN_ACCOUNT = "sign_in_account"
    # Failed sign-ins per client address, whatever the account.
    SIGN_IN_ADDRESS = "sign_in_address"
    # Registrations per client address.
    REGISTRATION = "registration"
    # Visits to shared report links per client address, known secrets or not.
    SHARED_REPORT = "shared_report"


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


class ApprovalState(StrEnum):
    """Where a submitted period of someone's time stands.

    `submitted` waits for a decision; `approved` and `rejected` are decisions; `withdrawn`
    is the submitter taking it back; `reopened` is an approval an admin undid. Only a
    submitted or approved period closes time; the others are history.
    """

    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    REOPENED = "reopened"


class LockReason(StrEnum):
    """Why an entry's time is closed: before the workspace's `locked_before`, or inside a
    period of its user that is submitted (closed to that user) or approved (to everyone)."""

    CLOSED_PERIOD = "closed_period"
    SUBMITTED = "submitted"
    APPROVED = "approved"


class ApprovalFilter(StrEnum):
    """Entries by the period their start falls in: approved, submitted, or neither."""

    APPROVED = "approved"
    SUBMITTED = "submitted"
    OPEN = "open"


class DeliveryStatus(StrEnum):
    """Where a webhook delivery stands: owed, being sent, received, given up or passed over."""

    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"
    FAILED = "failed"
    # Not sent: the webhook's creator may not read the event (any more), or it was pruned.
    SKIPPED = "skipped"
