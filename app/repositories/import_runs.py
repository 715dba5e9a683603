"""Import runs, the queue runners claim them from, and the uploads they read."""

import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import ImportFileChunk, ImportRun
from app.enums import ImportStatus
from app.repositories.base import ScopedRepository

_UNFINISHED = (ImportStatus.QUEUED, ImportStatus.RUNNING, ImportStatus.INTERRUPTED)


def _claimable(now: datetime) -> Any:
    """Runs nobody holds: queued, stopped, or held by a runner whose lease ran out."""
    return or_(
        ImportRun.status.in_((ImportStatus.QUEUED, ImportStatus.INTERRUPTED)),
        (ImportRun.status == ImportStatus.RUNNING) & (ImportRun.lease_expires_at < now),
    )


class ImportRunRepository(ScopedRepository[ImportRun]):
    model = ImportRun
    not_found_detail = "Import not found."

    async def store_file(self, run_id: uuid.UUID, position: int, data: bytes) -> None:
        """Keep the upload's piece at `position` (0, 1, …)."""
        await self.session.execute(
            insert(ImportFileChunk).values(run_id=run_id, position=position, data=data)
        )

    async def unfinished_of_file(
        self, file_sha256: str, format: str, *, uploads: bool
    ) -> list[ImportRun]:
        """The runs of this content and format not done yet, newest first: uploads (whose
        file is stored) or the command's (whose file stays with it)."""
        statement = (
            self.select()
            .where(
                ImportRun.file_sha256 == file_sha256,
                ImportRun.format == format,
                ImportRun.status.in_(_UNFINISHED),
                ImportRun.dry_run.is_(False),
                ImportRun.file_bytes.is_not(None) if uploads else ImportRun.file_bytes.is_(None),
            )
            .order_by(ImportRun.created_at.desc())
        )
        return list(await self.session.scalars(statement))


class ImportQueue:
    """The runs as their runners see them, across workspaces: claimed one at a time for one
    attempt until a lease runs out, and changed only under that attempt."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def waiting(self, now: datetime) -> bool:
        """Whether an upload waits for a runner: a read, so that an idle runner's look
        takes no lock (on SQLite, not the one writer's)."""
        statement = (
            select(ImportRun.id).where(ImportRun.file_bytes.is_not(None), _claimable(now)).limit(1)
        )
        return (await self.session.scalars(statement)).first() is not None

    async def claim_next(self, now: datetime, lease_until: datetime) -> ImportRun | None:
        """Take the oldest upload nobody holds. On PostgreSQL, a run another runner is
        claiming is skipped, not waited for; SQLite has one writer at a time."""
        waiting = (
            select(ImportRun.id)
            .where(ImportRun.file_bytes.is_not(None), _claimable(now))
            .order_by(ImportRun.created_at)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        run_id = (await self.session.scalars(waiting)).first()
        if run_id is None:
            return None
        return await self.claim(run_id, now, lease_until)

    async def claim(
        self, run_id: uuid.UUID, now: datetime, lease_until: datetime
    ) -> ImportRun | None:
        """Take this run for a new attempt, if nobody holds it; the run as taken."""
        taken = await self.session.execute(
            update(ImportRun)
            .where(ImportRun.id == run_id, _claimable(now))
            .values(
                status=ImportStatus.RUNNING,
                attempts=ImportRun.attempts + 1,
                lease_expires_at=lease_until,
                started_at=func.coalesce(ImportRun.started_at, now),
            )
            .returning(ImportRun.id)
            .execution_options(synchronize_session=False)
        )
        if taken.first() is None:
            return None
        statement = select(ImportRun).where(ImportRun.id == run_id)
        return (
            await self.session.scalars(statement.execution_options(populate_existing=True))
        ).one()

    async def advance(self, run: ImportRun, changes: dict[str, Any]) -> bool:
        """Write the run's progress under the attempt that holds it; False when another
        attempt took it over (this one's lease ran out), and nothing was written."""
        changed = await self.session.execute(
            update(ImportRun)
            .where(ImportRun.id == run.id, ImportRun.attempts == run.attempts)
            .values(changes)
            .execution_options(synchronize_session=False)
        )
        return changed.rowcount == 1

    async def release(self, run_id: uuid.UUID, attempt: int) -> None:
        """Mark the run stopped midway by its attempt numbered `attempt`, which holds it, for
        the next runner to resume at once instead of after the lease. (By id: the run's row
        as the stopped work loaded it may have been expired by its rollback.)"""
        await self.session.execute(
            update(ImportRun)
            .where(
                ImportRun.id == run_id,
                ImportRun.attempts == attempt,
                ImportRun.status == ImportStatus.RUNNING,
            )
            .values(status=ImportStatus.INTERRUPTED, lease_expires_at=None)
            .execution_options(synchronize_session=False)
        )

    async def file(self, run_id: uuid.UUID) -> AsyncIterator[bytes]:
        """The stored upload, a chunk at a time."""
        position = 0
        while True:
            statement = select(ImportFileChunk.data).where(
                ImportFileChunk.run_id == run_id, ImportFileChunk.position == position
            )
            data = (await self.session.scalars(statement)).first()
            if data is None:
                return
            yield data
            position += 1

    async def drop_file(self, run_id: uuid.UUID) -> None:
        await self.session.execute(delete(ImportFileChunk).where(ImportFileChunk.run_id == run_id))
