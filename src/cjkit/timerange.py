"""``--since``/``--until`` values: dates or datetimes, read in the report's time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cjkit.errors import UsageError


def zone(name: str) -> ZoneInfo:
    """Return the IANA zone ``name``; raise UsageError for an unknown one."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        msg = f"--tz: unknown time zone {name!r} (use an IANA name such as UTC or Europe/Paris)"
        raise UsageError(msg) from None


def _parse(flag: str, text: str, tz: ZoneInfo, *, end_of_day: bool) -> datetime:
    raw = text.strip()
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            moment = datetime.combine(day, time.min, tz)
            # A bare --until date includes that whole day, as PostHog's and Amplitude's pickers do.
            return moment + timedelta(days=1, microseconds=-1) if end_of_day else moment
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        msg = f"{flag}: can't read {text!r} as a date or time (expected 2025-01-31 or 2025-01-31T09:30)"
        raise UsageError(msg) from None
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
    start = _parse("--since", since, tz, end_of_day=False) if since else None
    end = _parse("--until", until, tz, end_of_day=True) if until else None
    if start and end and end < start:
        msg = f"--until ({until}) is before --since ({since})"
        raise UsageError(msg)
    return TimeRange(
        start.astimezone(UTC) if start else None,
        end.astimezone(UTC) if end else None,
    )
