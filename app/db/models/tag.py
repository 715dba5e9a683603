from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, EventSubject, InWorkspaceMixin, Resource, unique_among_live


class Tag(Resource, InWorkspaceMixin, Base):
    __tablename__ = "tags"
    __event_subject__ = EventSubject("tag")
    __table_args__ = (
        unique_among_live("tags", "workspace_id", "name"),
        UniqueConstraint("id", "workspace_id"),
    )

    name: Mapped[str] = mapped_column(String(100))
