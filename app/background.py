"""Work the server does in rounds in the background of its event loop: the import runner
and the webhook dispatcher."""

import asyncio
import logging
from abc import ABC, abstractmethod
from contextlib import suppress

logger = logging.getLogger(__name__)


class Rounds(ABC):
    """`run_once` again and again until stopped: at once after a round that found work,
    else when woken or after `poll_seconds`. A round that fails is logged and counts as
    having found none. How each stops (at once, or after its round) is its own."""

    name = "rounds"

    def __init__(self, poll_seconds: float) -> None:
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    @abstractmethod
    async def run_once(self) -> object:
        """One round; something true when it found work."""

    def start(self) -> None:
        """Run in the background of the current event loop until stopped."""
        self._task = asyncio.create_task(self.run(), name=self.name)

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                found = await self.run_once()
            except Exception:
                logger.exception("%s: a round failed", self.name)
                found = False
            if not found:
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
