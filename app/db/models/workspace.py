import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import Base, EventSubject, Resource
from app.db.types import UTCDateTime

if TYPE_CHECKING:
    from app.db.models.membership import Membership


class Workspace(Resource, Base):
    __tablename__ = "workspaces"
    __event_subject__ = EventSubject("workspace")
    __table_args__ = (Index(None, "owner_user_id"),)

    name: Mapped[str] = mapped_column(String(200))
    owner_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    default_hourly_rate_cents: Mapped[int] = mapped_column(Integer, default=0)
    prevent_overlaps: Mapped[bool] = mapped_column(Boolean, default=False)
    members_can_see_rates: Mapped[bool] = mapped_column(Boolean, default=False)
    # Entries starting before it are closed: no path changes them (`services/closed_time`).
    locked_before: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="workspace", lazy="raise", passive_deletes=True
    )
