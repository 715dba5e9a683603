import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import (
    Base,
    EventSubject,
    InWorkspaceMixin,
    TimestampMixin,
    UUIDPrimaryKeyMixin,
    VersionedMixin,
)
from app.db.types import UTCDateTime, str_enum
from app.enums import InvitationStatus, Role

if TYPE_CHECKING:
    from app.db.models.workspace import Workspace

_PENDING = text("status = 'pending'")


class Invitation(UUIDPrimaryKeyMixin, TimestampMixin, VersionedMixin, InWorkspaceMixin, Base):
    """An offer to join a workspace, made to an email. It names no account: whoever signs in
    with that email sees it, and only their acceptance makes them a member.

    Versioned, so that of two answers racing (accept and revoke) only the first lands.
    """

    __tablename__ = "invitations"
    __event_subject__ = EventSubject("invitation")
    __table_args__ = (
        # One pending invitation per address and workspace; answered ones stay as history.
        Index(
            "uq_invitations_workspace_id_email_pending",
            "workspace_id",
            "email",
            unique=True,
            postgresql_where=_PENDING,
            sqlite_where=_PENDING,
        ),
        Index(None, "email"),
        CheckConstraint("hourly_rate_cents >= 0", name="rate_not_negative"),
    )

    # Stored lower-cased, like `User.email`, so matching ignores case on both databases.
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[Role] = mapped_column(str_enum(Role))
    hourly_rate_cents: Mapped[int | None] = mapped_column(Integer, default=None)
    status: Mapped[InvitationStatus] = mapped_column(
        str_enum(InvitationStatus), default=InvitationStatus.PENDING
    )
    invited_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    workspace: Mapped["Workspace"] = relationship(lazy="raise")
