import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import Base, EventSubject, InWorkspaceMixin, Resource, unique_among_live
from app.db.types import UTCDateTime, str_enum
from app.enums import ProjectVisibility

if TYPE_CHECKING:
    from app.db.models.client import Client
    from app.db.models.project_member import ProjectMember
    from app.db.models.task import Task


class Project(Resource, InWorkspaceMixin, Base):
    __tablename__ = "projects"
    __event_subject__ = EventSubject("project")
    __table_args__ = (
        unique_among_live("projects", "workspace_id", "name"),
        UniqueConstraint("id", "workspace_id"),
        # The client, when set, must be in the project's workspace.
        ForeignKeyConstraint(
            ["client_id", "workspace_id"],
            ["clients.id", "clients.workspace_id"],
            ondelete="RESTRICT",
        ),
        Index(None, "workspace_id", "client_id"),
        CheckConstraint("hourly_rate_cents >= 0", name="rate_not_negative"),
        CheckConstraint("estimate_seconds > 0", name="estimate_positive"),
        CheckConstraint("budget_cents > 0", name="budget_positive"),
    )

    client_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    name: Mapped[str] = mapped_column(String(200))
    color: Mapped[str] = mapped_column(String(7), default="#0b7285")
    is_billable: Mapped[bool] = mapped_column(Boolean, default=True)
    hourly_rate_cents: Mapped[int | None] = mapped_column(Integer, default=None)
    visibility: Mapped[ProjectVisibility] = mapped_column(
        str_enum(ProjectVisibility), default=ProjectVisibility.PUBLIC
    )
    estimate_seconds: Mapped[int | None] = mapped_column(Integer, default=None)
    # What its billable time may cost, in the workspace's currency.
    budget_cents: Mapped[int | None] = mapped_column(BigInteger, default=None)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )

    client: Mapped["Client | None"] = relationship(
        back_populates="projects", lazy="raise", viewonly=True
    )
    tasks: Mapped[list["Task"]] = relationship(
        back_populates="project", lazy="raise", viewonly=True
    )
    members: Mapped[list["ProjectMember"]] = relationship(
        back_populates="project", lazy="raise", passive_deletes=True
    )
