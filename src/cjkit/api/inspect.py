"""The profile of event data: rows, units, time span, events and columns."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import polars as pl

from cjkit.api.read import ReadOptions, read_errors
from cjkit.canonical import EVENT, TIME, USER
from cjkit.io import reading, sources
from cjkit.report.core import InspectReport


def _dtype_name(dtype: pl.DataType) -> str:
    # Polars' own short form (str, i64, datetime[μs, UTC]) keeps the profile narrow.
    try:
        return str(dtype._string_repr())
    except (AttributeError, TypeError):
        return str(dtype)


def inspect(paths: sources.Source, read: ReadOptions, *, top: int = 50) -> InspectReport:
    """Return a profile of the events: rows, units, span, events and columns."""
    if isinstance(paths, str | Path):
        paths = [str(paths)]
    if (
        not isinstance(paths, pl.LazyFrame | pl.DataFrame)
        and read.preset is None
        and not (read.user_col or read.event_col or read.time_col)
    ):
        # A known export shape is read with its preset, and the profile says which it was.
        shape = reading.detect_preset(paths, read.input_format)
        read = replace(read, preset=shape) if shape else read
    events = sources.read(paths, read.column_map())
    cols = [c for c in events.columns if c != sources.RAW_TIME]
    with read_errors(events):  # samples of nested columns: the first read of the rows
        inputs = reading.profile(events)
    frame = events.clean()
    summary = frame.select(
        pl.len().alias("rows"),
        pl.col(USER).n_unique().alias("units"),
        pl.col(TIME).min().alias("start"),
        pl.col(TIME).max().alias("end"),
    )
    per_event = (
        frame.group_by(EVENT)
        .agg(pl.len().alias("count"), pl.col(USER).n_unique().alias("units"))
        .sort(["count", EVENT], descending=[True, False])
    )
    raw = events.frame.drop(sources.RAW_TIME)
    nulls = raw.select([pl.col(c).null_count().alias(c) for c in cols] + [pl.len().alias("__n")])
    samples = raw.select(
        [
            pl.col(c).drop_nulls().unique(maintain_order=True).head(3).implode().alias(c)
            for c in cols
        ]
    )
    with read_errors(events):  # names the file that can't be read, of several too
        s, e, n, smp, q = pl.collect_all(
            [summary, per_event, nulls, samples, sources.quality(events)]
        )
    sources.raise_for_quality(events, q.row(0, named=True))
    row = s.row(0, named=True)
    total = int(n["__n"][0])
    columns = [
        {
            "name": c,
            "dtype": _dtype_name(events.columns[c]),
            "null_share": (int(n[c][0]) / total) if total else None,
            "samples": [str(v) for v in smp[c][0].to_list()] if smp[c][0] is not None else [],
        }
        for c in cols
    ]
    return InspectReport(
        files=events.files,
        rows=int(row["rows"]),
        units=int(row["units"]),
        start=row["start"].isoformat() if row["start"] else None,
        end=row["end"].isoformat() if row["end"] else None,
        events=[
            {"event": r["event"], "count": int(r["count"]), "units": int(r["units"])}
            for r in e.head(top).iter_rows(named=True)
        ],
        columns=columns,
        dropped_rows=total - int(row["rows"]),
        **inputs,
    )
