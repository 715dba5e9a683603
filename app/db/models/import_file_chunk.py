import uuid

from sqlalchemy import ForeignKey, Integer, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base


class ImportFileChunk(Base):
    """A piece of an uploaded file, kept in the database until its run ends: every worker
    of every host reads it, and it survives a restart with no shared disk to configure."""

    __tablename__ = "import_file_chunks"

    run_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("import_runs.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
