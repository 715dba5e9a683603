from typing import TYPE_CHECKING

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import Base, Resource
from app.db.types import str_enum
from app.enums import WeekStart

if TYPE_CHECKING:
    from app.db.models.membership import Membership


class User(Resource, Base):
    __tablename__ = "users"

    # Stored lower-cased, so the unique constraint is case-insensitive on both databases.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Made for the people of imported or restored time; the person takes the account over
    # by signing up with its email.
    is_placeholder: Mapped[bool] = mapped_column(Boolean, default=False)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    week_start: Mapped[WeekStart] = mapped_column(str_enum(WeekStart), default=WeekStart.MONDAY)
    # Bumped on password change or deactivation; tokens carrying an older value are refused.
    token_generation: Mapped[int] = mapped_column(Integer, default=0)

    memberships: Mapped[list["Membership"]] = relationship(back_populates="user", lazy="raise")
