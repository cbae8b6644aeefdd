"""``--since``/``--until`` values: dates or datetimes, read in the report's time zone."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cjkit.errors import UsageError


def zone_problem(name: str, example: str = "Europe/Paris") -> str | None:
    """Return why ``name`` is not a usable time zone, or None when both zoneinfo and Polars
    (chrono-tz) know it. zoneinfo alone also opens files such as ``right/UTC``,
    ``posixrules`` or ``localtime`` that Polars rejects halfway through a run."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return f"unknown time zone {name!r} (use an IANA name such as UTC or {example})"
    if not _polars_knows(name):
        return f"time zone {name!r} is not in the IANA list Polars uses (try UTC or {example})"
    return None


@functools.lru_cache(maxsize=64)
def _polars_knows(name: str) -> bool:
    import polars as pl

    try:
        pl.Series([0], dtype=pl.Int64).cast(pl.Datetime("us")).dt.replace_time_zone(name)
    except pl.exceptions.PolarsError:
        return False
    return True


def zone(name: str) -> ZoneInfo:
    """Return the IANA zone ``name``; raise UsageError for one zoneinfo or Polars doesn't know."""
    problem = zone_problem(name)
    if problem:
        raise UsageError(f"tz: {problem}", option="tz")
    return ZoneInfo(name)


def _parse(field: str, text: str, tz: ZoneInfo, *, end_of_day: bool) -> datetime:
    raw = text.strip()
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            moment = datetime.combine(day, time.min, tz)
            # A bare --until date includes that whole day, as PostHog's and Amplitude's pickers do.
            return moment + timedelta(days=1, microseconds=-1) if end_of_day else moment
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        msg = f"{field}: can't read {text!r} as a date or time (expected 2025-01-31 or 2025-01-31T09:30)"
        raise UsageError(msg, option=field) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


@dataclass(frozen=True)
class TimeRange:
    """An inclusive range in UTC; either end may be open."""

    since: datetime | None = None
    until: datetime | None = None

    def as_dict(self) -> dict[str, str | None]:
        """Return the ISO form of both ends, for a report's settings."""
        return {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }


def parse_range(since: str | None, until: str | None, tz_name: str = "UTC") -> TimeRange:
    """Return the range in UTC; raise UsageError for bad values or ``until`` before ``since``."""
    tz = zone(tz_name)
    start = _parse("since", since, tz, end_of_day=False) if since else None
    end = _parse("until", until, tz, end_of_day=True) if until else None
    if start and end and end < start:
        msg = f"{{until}} ({until}) is before {{since}} ({since})"
        raise UsageError(msg, options=("until", "since"))
    return TimeRange(_utc(start), _utc(end))


# Bounds beyond these are no bounds: every local view of a moment within them (any zone, the
# next period's start) still fits Python's years 1-9999, and no real event log reaches them.
_LOWEST = datetime(1, 2, 1, tzinfo=UTC)
_HIGHEST = datetime(9999, 11, 30, tzinfo=UTC)


def _utc(moment: datetime | None) -> datetime | None:
    """``moment`` in UTC; None (no bound) when it lies before 0001-02-01 or after 9999-11-30
    UTC: ``--since 0001-01-01 --tz Asia/Tokyo`` starts before year 1 in UTC, at the beginning."""
    if moment is None:
        return None
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:
        return None
    return utc if _LOWEST <= utc <= _HIGHEST else None
