"""The span of instants the application takes, wherever one comes in (requests, cursors,
imported rows): far enough from year 1 and 9999 that moving one to any timezone, or to the
start of its week or month, stays a valid datetime in Python and in both databases."""

from datetime import UTC, datetime

EARLIEST_INSTANT = datetime(1900, 1, 1, tzinfo=UTC)
LATEST_INSTANT = datetime(3000, 1, 1, tzinfo=UTC)
OUT_OF_RANGE = "must be from 1900-01-01 to 2999-12-31 (UTC)"


def supported_utc(value: datetime) -> datetime:
    """An aware `value` in UTC; ValueError when outside [EARLIEST_INSTANT, LATEST_INSTANT)."""
    try:
        utc = value.astimezone(UTC)
    except OverflowError as exc:  # an offset pushes it past year 1 or 9999
        raise ValueError(OUT_OF_RANGE) from exc
    if not EARLIEST_INSTANT <= utc < LATEST_INSTANT:
        raise ValueError(OUT_OF_RANGE)
    return utc
