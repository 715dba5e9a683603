import uuid
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import (
    Base,
    EventSubject,
    InWorkspaceMixin,
    TimestampMixin,
    UUIDPrimaryKeyMixin,
    VersionedMixin,
)
from app.db.types import str_enum
from app.enums import Role

if TYPE_CHECKING:
    from app.db.models.user import User
    from app.db.models.workspace import Workspace

_OWNER = text("role = 'owner'")


class Membership(UUIDPrimaryKeyMixin, TimestampMixin, VersionedMixin, InWorkspaceMixin, Base):
    __tablename__ = "memberships"
    __event_subject__ = EventSubject("member", id_attribute="user_id")
    __table_args__ = (
        UniqueConstraint("workspace_id", "user_id"),
        Index(None, "user_id"),
        CheckConstraint("hourly_rate_cents >= 0", name="rate_not_negative"),
        # A workspace has one owner: the user named by `Workspace.owner_user_id`.
        Index(
            "uq_memberships_workspace_id_owner",
            "workspace_id",
            unique=True,
            postgresql_where=_OWNER,
            sqlite_where=_OWNER,
        ),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(str_enum(Role), default=Role.MEMBER)
    hourly_rate_cents: Mapped[int | None] = mapped_column(Integer, default=None)

    workspace: Mapped["Workspace"] = relationship(back_populates="memberships", lazy="raise")
    user: Mapped["User"] = relationship(back_populates="memberships", lazy="raise")
