"""The data-quality check of a read: rows without a unit or a time, times that can't be read.

:func:`quality` is a one-row query collected with the main one (so the scan is shared);
:func:`raise_for_quality` turns its row into an error (no rows, an unreadable time, more
dropped rows than ``max_dropped`` allows) or a warning with the counts and share.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from cjkit.canonical import TIME, USER
from cjkit.environment import MAX_DROPPED, WARN_DROPPED, max_dropped
from cjkit.errors import InputError
from cjkit.io.times import RAW_TIME

if TYPE_CHECKING:
    from cjkit.io.sources import Events


def quality(events: Events) -> pl.LazyFrame:
    """Return a one-row query: rows missing a unit, rows missing a time, unparseable times.

    A time that was present in the file but could not be parsed is an error; a missing unit or
    time drops the row with a warning. The API collects this with the main query, so the scan
    can be shared.
    """
    frame = events.frame
    # The text of the times that were not read, only: stripping every value costs a full pass.
    unread = pl.when(pl.col(TIME).is_null()).then(pl.col(RAW_TIME).str.strip_chars())
    unparsed = (unread.str.len_bytes() > 0).fill_null(value=False)
    return frame.select(
        pl.len().alias("rows"),
        pl.col(USER).is_null().sum().alias("null_user"),
        (pl.col(TIME).is_null() & ~unparsed & pl.col(USER).is_not_null()).sum().alias("null_time"),
        unparsed.sum().alias("bad_time"),
        unread.filter(unparsed).first().alias("first_bad"),
    )


def raise_for_quality(events: Events, row: dict[str, object]) -> None:
    """Raise InputError for no rows or unparseable times; add a warning for dropped rows."""
    if int(row.get("rows", 1) or 0) == 0:  # type: ignore[call-overload]
        names = events.files[0] if len(events.files) == 1 else f"{len(events.files)} files"
        raise InputError(f"{names}: no events (the input has columns but no rows)")
    bad = int(row["bad_time"] or 0)  # type: ignore[call-overload]
    if bad:
        value = row["first_bad"]
        where = _first_bad_location(events, str(value))
        raise InputError(
            f"{where}can't read {value!r} as a time ({bad:,} value(s) in all); "
            "expected a real date and time in 0001..9999 in one format, "
            "such as 2025-01-31T09:30:00Z"
        )
    no_unit = int(row["null_user"] or 0)  # type: ignore[call-overload]
    no_time = int(row["null_time"] or 0)  # type: ignore[call-overload]
    dropped = no_unit + no_time
    if dropped:
        rows = row.get("rows")
        share = dropped / max(rows if isinstance(rows, int) else dropped, dropped)
        message = (
            f"dropped {dropped:,} row(s) with no unit or no time "
            f"({no_unit:,} without a unit, {no_time:,} without a time)"
        )
        limit, name = events.max_dropped or (max_dropped(), MAX_DROPPED)
        if limit is not None and share > limit:
            raise InputError(
                f"{message}: {share:.1%} of the rows, more than {name} allows ({limit * 100:g}%)"
            )
        if share > WARN_DROPPED:
            message += f"; that is {share:.1%} of the rows: check the unit and time columns"
        events.warnings.append(message)


def _first_bad_location(events: Events, value: str) -> str:
    # Only on the error path: find which file and row hold the first bad value.
    for name, frame in zip(events.files, events.per_file, strict=True):
        found = (
            frame.with_row_index("__row", offset=1)
            .filter(pl.col(TIME).is_null() & (pl.col(RAW_TIME).str.strip_chars() == value))
            .select("__row")
            .head(1)
            .collect()
        )
        if found.height:
            return f"{name}: row {found.item():,}: "
    return ""
