import uuid
from datetime import datetime

from sqlalchemy import Boolean, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base
from app.db.types import UTCDateTime, utcnow


class LoginAttempt(Base):
    """Failed and successful logins, counted per account and per client address.

    Kept in the database so that the limit holds across workers and hosts.
    """

    __tablename__ = "login_attempts"
    __table_args__ = (Index(None, "email", "created_at"), Index(None, "client_ip", "created_at"))

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(320))
    client_ip: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
