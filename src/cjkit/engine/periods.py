"""Calendar periods (day, week, month, quarter) cut in the report's time zone.

Two views of the same cut:

* :func:`period_start` gives each timestamp the local date its period starts on, the way a person
  reads it (``convert_time_zone(tz)`` then ``dt.truncate``).
* :func:`period_index` gives a plain integer that counts periods (days since 1970-01-01, weeks
  since the first Monday or Sunday of 1970, ``year * 12 + month``, ``year * 4 + quarter``). The
  engines join and subtract these: period ``c + k`` is ``k`` periods after ``c``, whatever the
  month lengths, and an Int32 key is the cheapest thing to join on.

:func:`index_start` turns an index back into its start date; :func:`period_diff` counts whole
periods between two start dates. Both views agree by construction; the tests check it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import polars as pl

from cjkit.canonical import PERIODS as PERIODS
from cjkit.canonical import WEEK_STARTS as WEEK_STARTS
from cjkit.canonical import Period as Period
from cjkit.canonical import WeekStart as WeekStart
from cjkit.timerange import zone

_EPOCH = date(1970, 1, 1)
# 1970-01-01 was a Thursday: the first Monday is day 4, the first Sunday day 3.
_WEEK_OFFSET = {"monday": 4, "sunday": 3}
_TRUNCATE = {"day": "1d", "week": "1w", "month": "1mo", "quarter": "1q"}
INDEX_DTYPE = pl.Int32


def local_date(ts: pl.Expr, tz: str) -> pl.Expr:
    """Return the calendar date of a UTC timestamp as seen in ``tz``."""
    return (ts if tz == "UTC" else ts.dt.convert_time_zone(tz)).dt.date()


def period_start(ts: pl.Expr, period: Period, tz: str, week_start: WeekStart = "monday") -> pl.Expr:
    """Return the local date on which the period holding each timestamp starts."""
    local = ts if tz == "UTC" else ts.dt.convert_time_zone(tz)
    if period == "week" and week_start == "sunday":
        # truncate("1w") cuts at Mondays; shifting by a day first cuts at Sundays.
        return local.dt.offset_by("1d").dt.truncate("1w").dt.offset_by("-1d").dt.date()
    return local.dt.truncate(_TRUNCATE[period]).dt.date()


def date_index(day: pl.Expr, period: Period, week_start: WeekStart = "monday") -> pl.Expr:
    """Return the integer index of the period holding each (local) date."""
    if period == "day":
        return day.cast(pl.Int32)
    if period == "week":
        return (day.cast(pl.Int32) - _WEEK_OFFSET[week_start]) // 7
    year = day.dt.year().cast(pl.Int32)
    month = day.dt.month().cast(pl.Int32)
    if period == "month":
        return year * 12 + month - 1
    return year * 4 + (month - 1) // 3


def period_index(ts: pl.Expr, period: Period, tz: str, week_start: WeekStart = "monday") -> pl.Expr:
    """Return the integer index of the period holding each UTC timestamp, cut in ``tz``."""
    return date_index(local_date(ts, tz), period, week_start).cast(INDEX_DTYPE)


def index_start(index: pl.Expr, period: Period, week_start: WeekStart = "monday") -> pl.Expr:
    """Return the local start date of each period index (the inverse of :func:`date_index`)."""
    index = index.cast(pl.Int32)
    if period == "day":
        return index.cast(pl.Date)
    if period == "week":
        return (index * 7 + _WEEK_OFFSET[week_start]).cast(pl.Date)
    if period == "month":
        return pl.date(index // 12, index % 12 + 1, 1)
    return pl.date(index // 4, (index % 4) * 3 + 1, 1)


def period_diff(later: pl.Expr, earlier: pl.Expr, period: Period) -> pl.Expr:
    """Return how many whole periods separate two period start dates (``later − earlier``)."""
    if period in ("day", "week"):
        days = later.cast(pl.Int32) - earlier.cast(pl.Int32)
        return days if period == "day" else days // 7
    months = (later.dt.year().cast(pl.Int32) * 12 + later.dt.month().cast(pl.Int32)) - (
        earlier.dt.year().cast(pl.Int32) * 12 + earlier.dt.month().cast(pl.Int32)
    )
    return months if period == "month" else months // 3


def index_of(moment: datetime, period: Period, tz: str, week_start: WeekStart = "monday") -> int:
    """Return the index of the period holding ``moment`` (an aware datetime), cut in ``tz``."""
    day = moment.astimezone(zone(tz)).date()
    if period == "day":
        return (day - _EPOCH).days
    if period == "week":
        return ((day - _EPOCH).days - _WEEK_OFFSET[week_start]) // 7
    if period == "month":
        return day.year * 12 + day.month - 1
    return day.year * 4 + (day.month - 1) // 3


def start_date(index: int, period: Period, week_start: WeekStart = "monday") -> date:
    """Return the local start date of period ``index``."""
    if period == "day":
        return _EPOCH + timedelta(days=index)
    if period == "week":
        return _EPOCH + timedelta(days=index * 7 + _WEEK_OFFSET[week_start])
    if period == "month":
        return date(index // 12, index % 12 + 1, 1)
    return date(index // 4, (index % 4) * 3 + 1, 1)


def start_of(index: int, period: Period, tz: str, week_start: WeekStart = "monday") -> datetime:
    """Return the UTC instant at which period ``index`` starts (local midnight in ``tz``)."""
    local = datetime.combine(start_date(index, period, week_start), time.min, zone(tz))
    return local.astimezone(UTC)


# A report lists every period of its range when the range is at most this long (5 years of
# days); beyond it (an outlier dated 9999-12-31, a µs epoch read as ms) only the periods that
# hold events, so one stray row costs one period instead of hundreds of thousands.
DENSE_PERIODS = 2000


def grid(lo: int | None, hi: int | None, present: pl.Series) -> tuple[pl.Series, bool]:
    """Return the period indices a report lists for the range ``lo..hi`` and whether the grid is
    sparse: every index of the range when it holds at most :data:`DENSE_PERIODS`, else the
    indices of ``present`` (periods with events) within the range, sorted and distinct."""
    if lo is None or hi is None or hi < lo:
        return pl.Series("p", [], dtype=pl.Int32), False
    if hi - lo + 1 <= DENSE_PERIODS:
        return pl.Series("p", range(lo, hi + 1), dtype=pl.Int32), False
    inside = present.cast(pl.Int32).filter(present.is_between(lo, hi)).unique().sort()
    return inside.rename("p"), True


def sparse_warning(lo: int, hi: int, listed: int, period: str) -> str:
    """Return the warning of a sparse grid: how wide the range is and how much is listed."""
    return (
        f"the data spans {hi - lo + 1:,} {period}s; only the {listed:,} that hold events are "
        "listed. Some times lie far outside the bulk of the data: check the time column "
        "(--time-format) or narrow it with --since/--until"
    )
