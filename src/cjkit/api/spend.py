"""Reading a spend file (date, channel, amount) for the acquisition stage's CAC.

The file is the map's ``spend:`` (relative to the map) or the ``spend`` option; every problem
is one InputError naming the file and the column. Nothing here prints.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from cjkit.engine.metrics.kinds.acquisition import SPEND_AMOUNT, SPEND_CHANNEL, SPEND_DATE, Spend
from cjkit.errors import InputError, did_you_mean
from cjkit.io import sources
from cjkit.maps import loader
from cjkit.maps.schema import SpendSpec


def read_spend(path: Path, spec: SpendSpec, shown: str | None = None) -> Spend:
    """Return the spend file as (date, channel, amount); raise InputError naming what is wrong."""
    name = shown or str(path)
    if not path.is_file():
        raise InputError(f"spend file {name}: no such file")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            frame = pl.read_parquet(path)
        else:
            frame = pl.read_csv(path, infer_schema_length=10_000, encoding="utf8")
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as exc:
        raise InputError(f"spend file {name}: can't read it: {sources.first_line(exc)}") from None
    for role, column in (("date", spec.date), ("channel", spec.channel), ("amount", spec.amount)):
        if column not in frame.columns:
            raise InputError(
                f"spend file {name} has no {role} column '{column}' "
                f"(columns: {', '.join(frame.columns) or 'none'})",
                hint=did_you_mean(column, frame.columns),
            )
    table = pl.DataFrame(
        {
            SPEND_DATE: _spend_dates(frame, spec.date, name),
            SPEND_CHANNEL: frame[spec.channel].cast(pl.String),
            SPEND_AMOUNT: _spend_amounts(frame, spec.amount, name),
        }
    )
    return Spend(table, name)


def _spend_dates(frame: pl.DataFrame, column: str, name: str) -> pl.Series:
    col = frame[column]
    if col.dtype == pl.Date:
        return col
    if isinstance(col.dtype, pl.Datetime):
        return col.dt.date()
    text = col.cast(pl.String).str.strip_chars()
    parsed = text.str.to_date("%Y-%m-%d", strict=False)
    bad = text.filter(text.is_not_null() & parsed.is_null())
    if bad.len():
        raise InputError(
            f"spend file {name}: can't read {bad[0]!r} in column '{column}' as a date "
            "(expected 2025-01-31)"
        )
    return parsed


def _spend_amounts(frame: pl.DataFrame, column: str, name: str) -> pl.Series:
    col = frame[column]
    if col.dtype.is_numeric() or col.dtype == pl.Null:
        return col.cast(pl.Float64)
    text = col.cast(pl.String).str.strip_chars()
    parsed = text.cast(pl.Float64, strict=False)
    bad = text.filter(text.is_not_null() & parsed.is_null())
    if bad.len():
        raise InputError(
            f"spend file {name}: column '{column}' holds {bad[0]!r}, expected a number "
            "(no currency signs or thousands separators)"
        )
    return parsed


def spend_of(override: str | None, loaded: loader.LoadedMap) -> Spend | None:
    if override:
        return read_spend(Path(override), SpendSpec(path=override), override)
    spec = loaded.map.spend
    if spec is None:
        return None
    path = Path(spec.path)
    full = path if path.is_absolute() else loaded.base_dir / path
    return read_spend(full, spec, loader.display_path(full))
