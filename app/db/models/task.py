import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import Base, EventSubject, InWorkspaceMixin, Resource, unique_among_live
from app.db.types import UTCDateTime

if TYPE_CHECKING:
    from app.db.models.project import Project


class Task(Resource, InWorkspaceMixin, Base):
    __tablename__ = "tasks"
    __event_subject__ = EventSubject("task")
    __table_args__ = (
        unique_among_live("tasks", "project_id", "name"),
        # Target of the composite key that keeps an entry's task inside the entry's project.
        UniqueConstraint("id", "project_id"),
        ForeignKeyConstraint(
            ["project_id", "workspace_id"],
            ["projects.id", "projects.workspace_id"],
            ondelete="CASCADE",
        ),
        Index(None, "workspace_id", "project_id"),
        CheckConstraint("estimate_seconds > 0", name="estimate_positive"),
    )

    project_id: Mapped[uuid.UUID] = mapped_column()
    name: Mapped[str] = mapped_column(String(200))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    estimate_seconds: Mapped[int | None] = mapped_column(Integer, default=None)

    project: Mapped["Project"] = relationship(back_populates="tasks", lazy="raise", viewonly=True)
