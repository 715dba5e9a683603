"""Domain enumerations, shared by models, schemas and the OpenAPI document."""

from enum import StrEnum


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


class WeekStart(StrEnum):
    MONDAY = "monday"
    SUNDAY = "sunday"


class ProjectVisibility(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"


class EntrySource(StrEnum):
    MANUAL = "manual"
    TIMER = "timer"
    IMPORT = "import"
    API = "api"


class ImportFormat(StrEnum):
    TOGGL_CSV = "toggl_csv"
    CLOCKIFY_CSV = "clockify_csv"
    NATIVE_CSV = "native_csv"


class ImportStatus(StrEnum):
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
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    REVOKED = "revoked"
