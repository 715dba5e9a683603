from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import Base, EventSubject, InWorkspaceMixin, Resource, unique_among_live
from app.db.types import UTCDateTime

if TYPE_CHECKING:
    from app.db.models.project import Project


class Client(Resource, InWorkspaceMixin, Base):
    __tablename__ = "clients"
    __event_subject__ = EventSubject("client")
    __table_args__ = (
        unique_among_live("clients", "workspace_id", "name"),
        # Target of composite foreign keys that keep projects inside their client's workspace.
        UniqueConstraint("id", "workspace_id"),
    )

    name: Mapped[str] = mapped_column(String(200))
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    projects: Mapped[list["Project"]] = relationship(
        back_populates="client", lazy="raise", viewonly=True
    )
