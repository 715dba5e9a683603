"""Work in rounds: again at once after a round that found work, else on a wake or after the
poll interval; a failing round is logged and the rounds go on."""

import asyncio
import logging
from contextlib import suppress

import pytest

from app.background import Rounds


class Recorded(Rounds):
    name = "recorded"

    def __init__(self, outcomes: list[bool | Exception]) -> None:
        super().__init__(poll_seconds=60)
        self.outcomes = outcomes
        self.rounds = 0
        self.waiting = asyncio.Event()

    async def run_once(self) -> bool:
        self.rounds += 1
        outcome = self.outcomes.pop(0) if self.outcomes else False
        if not self.outcomes:
            self.waiting.set()
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


async def test_rounds_go_on_at_once_after_work_and_after_a_wake(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rounds = Recorded([True, True, RuntimeError("the database went away")])
    with caplog.at_level(logging.ERROR, logger="app.background"):
        rounds.start()
        await asyncio.wait_for(rounds.waiting.wait(), 5)
        await asyncio.sleep(0.05)
    # Two rounds found work and the third failed: it is logged, then the rounds wait.
    assert rounds.rounds == 3
    assert [record.getMessage() for record in caplog.records] == ["recorded: a round failed"]
    rounds.outcomes, rounds.waiting = [False], asyncio.Event()
    rounds.wake()
    await asyncio.wait_for(rounds.waiting.wait(), 5)
    await asyncio.sleep(0.05)
    assert rounds.rounds == 4
    assert rounds._task is not None
    rounds._task.cancel()
    with suppress(asyncio.CancelledError):
        await rounds._task
