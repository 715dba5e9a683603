"""Logging set-up for `timesheet serve`: one JSON object a line (or readable lines in
development), every record tagged with the request id, and uvicorn's access log replaced
by the application's own line per request (`timesheet.access`).

Uvicorn applies the configuration in each worker before the worker answers its
supervisor's health checks, so this module imports little: a slow start there gets the
worker killed.
"""

import logging
from typing import TYPE_CHECKING, Any

from pythonjsonlogger.json import JsonFormatter

from app.observability.request_id import current_request_id

if TYPE_CHECKING:
    from app.config import Settings


class RequestIdFilter(logging.Filter):
    """Tags every record written while a request is handled with that request's id."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        return True


def json_formatter() -> JsonFormatter:
    """One JSON object a line: timestamp, level, logger, message and the record's extras
    (the access line's method, route, status, duration_ms, request_id ...)."""
    return JsonFormatter(
        "%(levelname)s %(name)s %(message)s",
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp=True,
    )


def log_config(settings: "Settings") -> dict[str, Any]:
    """A `logging.config.dictConfig` dictionary; uvicorn applies it in every worker."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": f"{__name__}.RequestIdFilter"}},
        "formatters": {
            "json": {"()": f"{__name__}.json_formatter"},
            "console": {
                "format": "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s",
            },
        },
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": settings.effective_log_format.value,
                "filters": ["request_id"],
            },
        },
        "root": {"level": settings.log_level, "handlers": ["default"]},
        "loggers": {
            # Uvicorn's own handlers would print a second, unstructured copy.
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False},
        },
    }
