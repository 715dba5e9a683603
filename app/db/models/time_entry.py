import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import Base, EventSubject, InWorkspaceMixin, Resource
from app.db.types import UTCDateTime, str_enum
from app.enums import EntrySource

if TYPE_CHECKING:
    from app.db.models.project import Project
    from app.db.models.tag import Tag
    from app.db.models.task import Task

DESCRIPTION_MAX_LENGTH = 5000
_RUNNING_LIVE = text("end_at IS NULL AND deleted_at IS NULL")


class TimeEntry(Resource, InWorkspaceMixin, Base):
    """A half-open interval [start_at, end_at) of a user's time; no end means running."""

    __tablename__ = "time_entries"
    __event_subject__ = EventSubject("time_entry", timed=True, collections={"tag_ids": "tags"})
    __table_args__ = (
        CheckConstraint("end_at IS NULL OR end_at > start_at", name="end_after_start"),
        CheckConstraint("task_id IS NULL OR project_id IS NOT NULL", name="task_needs_project"),
        CheckConstraint(
            f"length(description) <= {DESCRIPTION_MAX_LENGTH}", name="description_length"
        ),
        CheckConstraint("hourly_rate_cents >= 0", name="rate_not_negative"),
        # At most one running entry per user, across workspaces.
        Index(
            "uq_time_entries_user_id_running",
            "user_id",
            unique=True,
            postgresql_where=_RUNNING_LIVE,
            sqlite_where=_RUNNING_LIVE,
        ),
        UniqueConstraint("workspace_id", "source", "external_id"),
        UniqueConstraint("id", "workspace_id"),
        # Project and task are bound to the entry's workspace and project by the database.
        ForeignKeyConstraint(
            ["project_id", "workspace_id"],
            ["projects.id", "projects.workspace_id"],
            ondelete="RESTRICT",
        ),
        ForeignKeyConstraint(
            ["task_id", "project_id"], ["tasks.id", "tasks.project_id"], ondelete="RESTRICT"
        ),
        Index(None, "workspace_id", "start_at"),
        Index(None, "workspace_id", "user_id", "start_at"),
        Index(None, "workspace_id", "project_id", "start_at"),
        Index(None, "workspace_id", "updated_at"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    project_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    task_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    description: Mapped[str] = mapped_column(Text, default="")
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    billable: Mapped[bool] = mapped_column(Boolean, default=False)
    hourly_rate_cents: Mapped[int | None] = mapped_column(Integer, default=None)
    source: Mapped[EntrySource] = mapped_column(str_enum(EntrySource), default=EntrySource.MANUAL)
    external_id: Mapped[str | None] = mapped_column(String(255), default=None)

    project: Mapped["Project | None"] = relationship(lazy="raise", viewonly=True)
    task: Mapped["Task | None"] = relationship(lazy="raise", viewonly=True)
    # Joined on the link table's key alone: with workspace_id in the join too, SQLite's planner
    # picked the (workspace_id, tag_id) index and scanned every link of the workspace per entry.
    tags: Mapped[list["Tag"]] = relationship(
        secondary="time_entry_tags",
        primaryjoin="TimeEntry.id == time_entry_tags.c.time_entry_id",
        secondaryjoin="Tag.id == time_entry_tags.c.tag_id",
        lazy="raise",
        viewonly=True,
    )
