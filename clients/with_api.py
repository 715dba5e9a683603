"""Run a command against a real `timesheet serve` on a free port and a temporary SQLite file.

    python clients/with_api.py COMMAND [ARG...]

The command finds the API at $API_URL. $SPA_ORIGIN is a second free origin on the same host,
the only one CORS lets in, for a browser app served from there. The server's output is shown
only when something fails.
"""

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

HOST = "127.0.0.1"
START_TIMEOUT_SECONDS = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def wait_until_ready(server: subprocess.Popen[bytes], url: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer within {START_TIMEOUT_SECONDS} s")


def main(command: list[str]) -> int:
    if not command:
        print(__doc__, file=sys.stderr)
        return 2
    api_port = free_port()
    api_url = f"http://{HOST}:{api_port}"
    spa_origin = f"http://{HOST}:{free_port()}"
    timesheet = Path(sys.executable).parent / "timesheet"
    with tempfile.TemporaryDirectory(prefix="timesheet-api-") as workdir:
        log_path = Path(workdir) / "server.log"
        server_env = {
            **os.environ,
            "ENVIRONMENT": "development",
            "DATABASE_URL": f"sqlite:///{workdir}/timesheet.db",
            "SECRET_KEY": secrets.token_hex(32),
            "CORS_ORIGINS": spa_origin,
        }
        with log_path.open("wb") as log:
            # The work directory holds no .env, so only the settings above apply.
            server = subprocess.Popen(  # noqa: S603 - this project's own command
                [str(timesheet), "serve", "--host", HOST, "--port", str(api_port)],
                cwd=workdir,
                env=server_env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_until_ready(server, api_url)
            result = subprocess.run(  # noqa: S603 - the caller's own command
                command, env={**os.environ, "API_URL": api_url, "SPA_ORIGIN": spa_origin}
            )
        except RuntimeError as failure:
            print(f"with_api: {failure}", file=sys.stderr)
            result = subprocess.CompletedProcess(command, 1)
        finally:
            server.terminate()
            server.wait(timeout=30)
        if result.returncode != 0:
            sys.stderr.write(log_path.read_text(errors="replace"))
        return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
