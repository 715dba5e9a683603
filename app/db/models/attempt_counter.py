from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base
from app.db.types import UTCDateTime, str_enum
from app.enums import AttemptKind


class AttemptCounter(Base):
    """How many attempts of one kind a subject (an email, a client address) made in its
    current window, for the limits on sign-ins and registrations.

    One row per subject, counted up by one atomic upsert per attempt, so that concurrent
    attempts each see a count of their own; kept in the database so that the limits hold
    across workers and hosts.
    """

    __tablename__ = "attempt_counters"
    __table_args__ = (Index(None, "kind", "window_started_at"),)

    kind: Mapped[AttemptKind] = mapped_column(str_enum(AttemptKind), primary_key=True)
    subject: Mapped[str] = mapped_column(String(320), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
