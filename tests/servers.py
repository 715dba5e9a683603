"""`timesheet serve` as a real process on a free port, for tests that need one."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

STARTUP_TIMEOUT_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serving(
    *options: str, cwd: Path, env: dict[str, str]
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Start the server, wait until /readyz answers, and stop it afterwards."""
    executable = str(Path(sys.executable).parent / "timesheet")
    port = free_port()
    # A file, not a pipe: nobody reads the output until the end, and a full pipe would
    # block the server.
    log = cwd / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own console script
            [executable, "serve", "--port", str(port), *options],
            cwd=cwd,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while True:
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"server did not start:\n{log.read_text()}")
            time.sleep(0.2)
        yield base, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            pytest.fail(f"server did not stop within 30 s of SIGTERM:\n{log.read_text()[-6000:]}")


def environment_without(*prefixes: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


def worker_pids(master: int) -> list[int]:
    """The worker processes uvicorn's master started (not its other helpers)."""
    workers = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue  # ended while we looked
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == master and b"spawn_main" in command:
            workers.append(int(entry.name))
    return workers
