"""The one place that reads the wall clock; everything below it takes `as_of`."""

from datetime import UTC, datetime


def now_utc() -> datetime:
    return datetime.now(UTC)
