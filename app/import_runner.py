"""The import runner: imports the uploaded files in the background of the server.

It runs in every `timesheet serve` worker (unless `IMPORT_RUNNER=false`), as the webhook
dispatcher does (`app/dispatcher.py`). Each round claims one run in a short transaction of
its own (`ImportQueue.claim_next`: `FOR UPDATE SKIP LOCKED` on PostgreSQL, so two runners
never take the same run): a queued one, one stopped by a worker's shutdown (`interrupted`),
or one whose runner died (its lease ran out). The stored upload is copied to a temporary
file and imported as the uploader, who must still be an admin, a batch per transaction:
each batch commits with the run's progress and a renewed lease, so a run resumes after its
last committed batch wherever it stopped. When idle it polls every `IMPORT_POLL_SECONDS`,
and an upload to this worker wakes it at once.
"""

import asyncio
import logging
import tempfile
from contextlib import suppress
from datetime import timedelta
from typing import Any

from app.background import Rounds
from app.config import Settings
from app.db.engine import Sessions
from app.db.models import ImportRun
from app.db.types import utcnow
from app.db.unit_of_work import UnitOfWork
from app.enums import EventOrigin, ImportStatus
from app.errors import DomainError, Forbidden
from app.repositories.import_runs import ImportQueue
from app.repositories.users import UserRepository
from app.services.caller import Caller, SignIn
from app.services.imports import LeaseLost, carry_out

logger = logging.getLogger(__name__)

UPLOADER_GONE = "The uploader is no longer an active member of the workspace."
INTERNAL_ERROR = "The import stopped on an internal error."


class ImportRunner(Rounds):
    name = "import-runner"

    def __init__(self, sessions: Sessions, settings: Settings) -> None:
        super().__init__(settings.import_poll_seconds)
        self.sessions = sessions
        self.settings = settings

    async def stop(self) -> None:
        """Stop at once: the batch in progress is rolled back, and the run is marked
        interrupted for the next runner (here after a restart, or another worker)."""
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task

    async def run_once(self) -> bool:
        """Claim a run and carry it out to its end; False when none was waiting."""
        lease = timedelta(seconds=self.settings.import_lease_seconds)
        now = utcnow()
        async with UnitOfWork(self.sessions, read_only=True) as uow:
            if not await ImportQueue(uow.session).waiting(now):
                return False
        async with UnitOfWork(self.sessions) as uow:
            run = await ImportQueue(uow.session).claim_next(now, now + lease)
        if run is None:
            return False
        with tempfile.TemporaryFile() as copy:
            async with UnitOfWork(self.sessions, read_only=True) as uow:
                async for chunk in ImportQueue(uow.session).file(run.id):
                    copy.write(chunk)
            copy.seek(0)
            await self._carry_out(run, copy, lease)
        return True

    async def _carry_out(self, run: ImportRun, file: Any, lease: timedelta) -> None:
        run_id, attempt = run.id, run.attempts
        try:
            async with UnitOfWork(self.sessions, origin=EventOrigin.IMPORT) as uow:
                uow.act_as(run.user_id)
                caller = await _uploader(uow, run)
                await carry_out(
                    uow,
                    run,
                    caller,
                    file,
                    batch_rows=self.settings.import_batch_rows,
                    lease=lease,
                )
        except LeaseLost:
            logger.warning("import %s was taken over by another runner", run.id)
        except asyncio.CancelledError:
            async with UnitOfWork(self.sessions) as uow:
                await ImportQueue(uow.session).release(run_id, attempt)
            raise
        except DomainError as exc:
            await self._fail(run, exc.detail)
        except Exception:
            logger.exception("import %s failed", run.id)
            await self._fail(run, INTERNAL_ERROR)

    async def _fail(self, run: ImportRun, reason: str) -> None:
        """End the run as failed; what its committed batches wrote stays, and is counted."""
        async with UnitOfWork(self.sessions) as uow:
            queue = ImportQueue(uow.session)
            changes = {
                "status": ImportStatus.FAILED,
                "errors": [{"line": 0, "reason": reason}, *run.errors],
                "finished_at": utcnow(),
                "lease_expires_at": None,
            }
            if await queue.advance(run, changes):
                await queue.drop_file(run.id)


async def _uploader(uow: UnitOfWork, run: ImportRun) -> Caller:
    """Who uploaded the file, with their standing in the workspace now."""
    standing = (
        await UserRepository(uow.session).get_active(run.user_id, run.workspace_id)
        if run.user_id is not None
        else None
    )
    if standing is None or standing.membership is None or standing.workspace is None:
        raise Forbidden(UPLOADER_GONE)
    caller = Caller(standing.user, SignIn.IMPORT)
    return caller.in_workspace(standing.workspace, standing.membership)
