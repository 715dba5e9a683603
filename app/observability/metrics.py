"""Prometheus metrics of the HTTP requests, correct across `timesheet serve --workers N`.

With several workers each process writes its samples to files in PROMETHEUS_MULTIPROC_DIR
(prometheus-client's multiprocess mode), and whichever worker answers /metrics adds up
the files of all of them.
"""

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
    multiprocess,
)

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

# Seconds; from a cached read to a large export.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def is_multiprocess() -> bool:
    return MULTIPROCESS_DIR_VARIABLE in os.environ


class HttpMetrics:
    """The request metrics of one application, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        if not is_multiprocess():
            # Per-process figures mean nothing summed over workers.
            ProcessCollector(registry=self.registry)
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests answered, by method, route template and status.",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.duration = Histogram(
            "http_request_duration_seconds",
            "Time from receiving a request to the end of its response, by route template.",
            ("method", "route"),
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.in_progress = Gauge(
            "http_requests_in_progress",
            "HTTP requests being handled now.",
            registry=self.registry,
            multiprocess_mode="livesum",
        )

        # The labelled children, looked up once: `labels()` takes a lock and checks its
        # arguments on every call.
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = (
                self.requests.labels(method, route, str(status)),
                self.duration.labels(method, route),
            )
            self._children[key] = children
        count, duration = children
        count.inc()
        duration.observe(seconds)

    def exposition(self) -> bytes:
        if not is_multiprocess():
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)


def mark_worker_dead() -> None:
    """Drop this worker's live gauges when it stops, so they no longer count."""
    if is_multiprocess():
        multiprocess.mark_process_dead(os.getpid())


@contextmanager
def multiprocess_directory(workers: int) -> Iterator[None]:
    """A fresh PROMETHEUS_MULTIPROC_DIR for the workers of one `serve`, removed after.

    Workers inherit the variable and must see it before importing prometheus-client. An
    operator's own directory is used as it is.
    """
    if workers == 1 or is_multiprocess():
        yield
        return
    directory = tempfile.mkdtemp(prefix="timesheet-metrics-")
    os.environ[MULTIPROCESS_DIR_VARIABLE] = directory
    try:
        yield
    finally:
        del os.environ[MULTIPROCESS_DIR_VARIABLE]
        shutil.rmtree(directory, ignore_errors=True)
