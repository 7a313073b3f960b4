"""Cron schedules of paper runs: validation and the fire times ("slots") between instants.

A run's ``schedule`` is a 5-field cron expression (croniter also accepts a 6th field for
seconds, which the fast tests use) evaluated in the run's timezone (``parameters["tz"]``,
default UTC), so ``0 9 * * 1-5`` means 09:00 local time across DST changes. Slot times
are returned as aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from workbench.errors import ValidationError


def zone(tz: str | None) -> ZoneInfo:
    """The timezone named ``tz`` (IANA name, default UTC)."""
    try:
        return ZoneInfo(tz or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"Unknown timezone {tz!r}; use an IANA name such as "
                              f"'UTC' or 'Europe/Berlin'.", details={"tz": tz}) from None


def check_cron(expr: str) -> str:
    """``expr`` if croniter accepts it, else a ValidationError saying how to write one."""
    from croniter import croniter

    if not isinstance(expr, str) or not croniter.is_valid(expr):
        raise ValidationError(
            f"Schedule {expr!r} is not a cron expression; write five fields "
            f"'minute hour day month weekday', e.g. '*/5 * * * *' (every 5 minutes) or "
            f"'0 * * * *' (hourly).", details={"schedule": expr})
    return expr


def as_utc(value: Any) -> datetime:
    """An aware UTC datetime from a datetime (naive = UTC), ISO text or pandas Timestamp."""
    if isinstance(value, str):
        text = value.strip()
        if text.lower() == "now":
            return datetime.now(UTC)
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError(f"Time {text!r} is not ISO 8601; write e.g. "
                                  f"2024-01-02T15:00:00Z.", details={"time": text}) from None
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if not isinstance(value, datetime):
        raise ValidationError(f"Expected a time, got {type(value).__name__}.",
                              details={"type": type(value).__name__})
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iter_slots(expr: str, after: datetime, tz: str | None = None) -> Iterator[datetime]:
    """Fire times strictly after ``after``, in order, as aware UTC datetimes."""
    from croniter import croniter

    it = croniter(check_cron(expr), as_utc(after).astimezone(zone(tz)))
    while True:
        yield it.get_next(datetime).astimezone(UTC)


def slots_between(expr: str, after: datetime, until: datetime, tz: str | None = None, *,
                  limit: int | None = None) -> list[datetime]:
    """Fire times ``t`` with ``after < t <= until`` in order; with ``limit``, at most that
    many (the first ones)."""
    out: list[datetime] = []
    end = as_utc(until)
    for t in iter_slots(expr, after, tz):
        if t > end or (limit is not None and len(out) >= limit):
            break
        out.append(t)
    return out


def count_slots(expr: str, after: datetime, until: datetime, tz: str | None = None, *,
                cap: int) -> int:
    """How many fire times lie in ``(after, until]``, counting no further than ``cap``."""
    return len(slots_between(expr, after, until, tz, limit=cap))

