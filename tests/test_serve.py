"""`timesheet serve` in an empty directory comes up on the SQLite default."""

import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest

STARTUP_TIMEOUT_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen[bytes], output: Callable[[], str]) -> None:
    """Poll `url` until it answers 200; fail with the server's output if it never does."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while True:
        try:
            if httpx.get(url).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"server did not start:\n{output()}")
        time.sleep(0.2)


@pytest.fixture
def served(tmp_path: Path):  # type: ignore[no-untyped-def]
    executable = shutil.which("timesheet") or str(Path(os.sys.executable).parent / "timesheet")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "ENVIRONMENT"))}
    process = subprocess.Popen(  # noqa: S603 - our own console script
        [executable, "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(
            f"{base}/livez",
            process,
            lambda: process.stdout.read().decode() if process.stdout else "",
        )
        yield base, tmp_path
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_serve_in_an_empty_directory(served) -> None:  # type: ignore[no-untyped-def]
    base, directory = served
    ready = httpx.get(f"{base}/readyz")
    assert ready.status_code == 200
    assert "server" not in ready.headers  # no banner naming the server to scanners
    assert (directory / "timesheet.db").exists()

    for page in ("/docs", "/redoc"):
        docs = httpx.get(f"{base}{page}")
        assert docs.status_code == 200
        assets = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", docs.text)
        assert assets
        for asset in assets:
            url = urljoin(f"{base}{page}", asset)
            assert url.startswith(base), f"{page} loads {asset} from another host"
            assert httpx.get(url).status_code == 200
        assert "https://" not in docs.text and "http://" not in docs.text
