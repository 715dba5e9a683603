import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import (
    Base,
    EventSubject,
    InWorkspaceMixin,
    TimestampMixin,
    UUIDPrimaryKeyMixin,
    VersionedMixin,
)
from app.db.types import UTCDateTime, str_enum
from app.enums import ApprovalState

NOTE_MAX_LENGTH = 2000


class Approval(UUIDPrimaryKeyMixin, TimestampMixin, VersionedMixin, InWorkspaceMixin, Base):
    """A period of one person's time, submitted for approval: the dates
    [period_start, period_end) in their timezone, and the instants [starts_at, ends_at)
    those dates stood for when it was submitted.

    Submitted or approved periods of one person never overlap: `ApprovalService` checks it
    under the per-user lock. The totals are those of the period's entries when it was
    decided (approved or rejected). Versioned, so of two racing decisions only one lands.
    """

    __tablename__ = "approvals"
    __event_subject__ = EventSubject("approval", state_field="state")
    __table_args__ = (
        CheckConstraint("period_end > period_start", name="period_not_empty"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint(f"length(note) <= {NOTE_MAX_LENGTH}", name="note_length"),
        # The closed-time lookup: one person's periods by where they start.
        Index(None, "workspace_id", "user_id", "starts_at"),
        Index(None, "workspace_id", "state"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    timezone: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[ApprovalState] = mapped_column(
        str_enum(ApprovalState), default=ApprovalState.SUBMITTED
    )
    note: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    decided_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    # The period's totals when it was decided; null until then.
    seconds: Mapped[int | None] = mapped_column(BigInteger, default=None)
    billable_seconds: Mapped[int | None] = mapped_column(BigInteger, default=None)
    amount_cents: Mapped[int | None] = mapped_column(BigInteger, default=None)
