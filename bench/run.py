"""The benchmark runner: Timesheet's throughput against a bare baseline, under wrk.

    .venv/bin/python -m bench --label before [--ref REF] [--large] [--sqlite] [--only KEYS]

Generates the benchmark data in PostgreSQL (or reuses it), starts the real server and the
baseline (`bench/baseline.py`), checks that both return the same JSON, then drives each
scenario against one app after the other with wrk (`bench/wrk.lua`). The table goes to stdout
and into the section of docs/benchmarks.md named by `--label`, leaving other sections alone.
`--ref` measures a commit rather than the working tree.
"""

import argparse
import asyncio
import io
import json
import os
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Set when `--ref` runs the harness again inside an exported tree: the command and the code
# to record.
ORIGIN_ENV = "BENCH_ORIGIN"
SCENARIOS = ("list", "get", "page-1", "page-1000", "summary", "create", "update", "timer")


def git(*args: str) -> str:
    command = ["git", "--no-optional-locks", "-C", str(ROOT), *args]
    found = subprocess.run(command, capture_output=True, text=True, check=True)  # noqa: S603 - git
    return found.stdout.strip()


def command_line() -> str:
    return shlex.join([".venv/bin/python", "-m", "bench", *sys.argv[1:]])


def origin() -> dict[str, str]:
    """The command to record, and the code it measures."""
    if ORIGIN_ENV in os.environ:
        return json.loads(os.environ[ORIGIN_ENV])
    code = f"commit {git('rev-parse', '--short=10', 'HEAD')}"
    if git("status", "--porcelain", "--", "app", "alembic"):
        code += " with uncommitted changes in app/ or alembic/"
    return {"command": command_line(), "code": code}


def rerun_at(ref: str, docs: str) -> int:
    """Run this harness on the code of `ref`: export the commit, put today's bench/ in it and
    run there, so that nothing of the working tree's app/ is imported."""
    commit = git("rev-parse", "--verify", f"{ref}^{{commit}}")
    archive = ["git", "-C", str(ROOT), "archive", "--format=tar", commit]
    exported = subprocess.run(archive, capture_output=True, check=True).stdout  # noqa: S603 - git
    with (
        tempfile.TemporaryDirectory(prefix="timesheet-ref-") as tree,
        tarfile.open(fileobj=io.BytesIO(exported)) as files,
    ):
        files.extractall(tree, filter="data")
        shutil.rmtree(Path(tree) / "bench", ignore_errors=True)
        ignore = shutil.ignore_patterns("__pycache__")
        shutil.copytree(ROOT / "bench", Path(tree) / "bench", ignore=ignore)
        code = f"commit {commit[:10]}" + ("" if commit.startswith(ref) else f" ({ref})")
        measured = {"command": command_line(), "code": code}
        env = {**os.environ, ORIGIN_ENV: json.dumps(measured)}
        argv = [sys.executable, "-m", "bench.run", *sys.argv[1:], "--docs", docs]
        return subprocess.run(argv, cwd=tree, env=env, check=False).returncode  # noqa: S603 - ourselves


def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    if not shutil.which("apt-get"):
        raise SystemExit("wrk is needed: install it with your package manager.")
    print("Installing wrk with apt-get", flush=True)
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=True)  # noqa: S607 - from PATH


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--label", default="latest", help="the docs section to (re)write")
    parser.add_argument("--ref", help="measure this git commit instead of the working tree")
    parser.add_argument("--database-url", help="PostgreSQL database (emptied when generating)")
    parser.add_argument("--large", action="store_true", help="1,000,000 entries")
    parser.add_argument("--regenerate", action="store_true", help="even if the data is there")
    parser.add_argument("--sqlite", action="store_true", help="also Timesheet on SQLite")
    parser.add_argument("--sqlite-path", help="the SQLite file (default: in the temp directory)")
    parser.add_argument("--duration", type=int, default=8, help="seconds per scenario and app")
    parser.add_argument("--warmup", type=int, default=2, help="seconds before measuring")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument(
        "--webhook",
        action="store_true",
        help="subscribe a webhook to every event of the caller's workspace while measuring",
    )
    parser.add_argument("--only", help=f"comma-separated scenarios of: {', '.join(SCENARIOS)}")
    parser.add_argument("--docs", default=str(ROOT / "docs" / "benchmarks.md"))
    args = parser.parse_args()
    if args.only and (unknown := set(args.only.split(",")) - set(SCENARIOS)):
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    if args.sqlite_path is None:
        name = "timesheet_bench_large.db" if args.large else "timesheet_bench.db"
        args.sqlite_path = str(Path(tempfile.gettempdir()) / name)
    return args


def main() -> None:
    args = parse_args()
    if args.ref and ORIGIN_ENV not in os.environ:
        sys.exit(rerun_at(args.ref, str(Path(args.docs).resolve())))
    ensure_wrk()
    # Imported only now: with --ref, this process never imports the working tree's app/.
    from bench.harness import run

    asyncio.run(run(args, origin()))


if __name__ == "__main__":
    main()
