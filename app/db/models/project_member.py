import uuid
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import (
    Base,
    EventSubject,
    InWorkspaceMixin,
    TimestampMixin,
    UUIDPrimaryKeyMixin,
    VersionedMixin,
)

if TYPE_CHECKING:
    from app.db.models.project import Project


class ProjectMember(UUIDPrimaryKeyMixin, TimestampMixin, VersionedMixin, InWorkspaceMixin, Base):
    """Access to a private project, and the member's rate on it."""

    __tablename__ = "project_members"
    __event_subject__ = EventSubject("project_member")
    __table_args__ = (
        UniqueConstraint("project_id", "user_id"),
        Index(None, "workspace_id", "user_id"),
        CheckConstraint("hourly_rate_cents >= 0", name="rate_not_negative"),
    )

    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    hourly_rate_cents: Mapped[int | None] = mapped_column(Integer, default=None)

    project: Mapped["Project"] = relationship(back_populates="members", lazy="raise")
