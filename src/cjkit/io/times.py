"""Turn an input time column (text, epoch numbers, dates, datetimes) into Datetime[us, UTC].

Every format goes through the same rules, so a CSV, a Parquet file and an NDJSON file holding
the same events give the same times:

* epochs in seconds, milliseconds, microseconds or nanoseconds (``epoch_s`` … ``epoch_ns``);
  ``auto`` picks the unit by the magnitude of the sampled values;
* ``YYYYMMDD`` integers or strings and ``YYYY-MM-DD`` strings are dates (``date``);
* ISO-8601 with ``T`` or a space, an optional fraction, and ``Z``, ``±HH:MM``, ``±HHMM``, also
  after a space (``2024-01-05 22:20:27 +0700``);
* naive times are local to ``tz``. A time that does not exist (a DST gap) moves forward by the
  length of the gap, as Python's ``zoneinfo`` (fold=0), java.time and PostgreSQL do; a time that
  exists twice (a DST overlap) is the earlier instant;
* a time outside 0001-01-01..9999-12-31 is not a time: the row is reported like any other
  unreadable value (one line, exit 2), never an overflow.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from cjkit.canonical import TIME
from cjkit.errors import InputError

RAW_TIME = "__raw_time"  # the time as text, kept so an unparseable value can be named
TIME_DTYPE = pl.Datetime("us", "UTC")
TIME_FORMATS = ("auto", "iso", "date", "epoch_s", "epoch_ms", "epoch_us", "epoch_ns")

# Microseconds since 1970 of 0001-01-01T00:00:00 and 9999-12-31T23:59:59.999999.
MIN_US = -62_135_596_800_000_000
MAX_US = 253_402_300_799_999_999
_PER_US = {"epoch_s": 1_000_000, "epoch_ms": 1_000, "epoch_us": 1}

_ISO_OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s?(Z|[+-]\d{2}:?\d{2})?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_COMPACT_DATE = re.compile(r"^\d{8}$")
_EPOCH = re.compile(r"^-?\d{9,19}(\.\d+)?$")


def local(naive: pl.Expr, tz: str) -> pl.Expr:
    """Return naive datetimes read in ``tz`` as UTC: DST gaps shift forward, overlaps take the
    earlier instant (the module docstring has the rule)."""
    if tz == "UTC":
        return naive.dt.replace_time_zone("UTC")
    aware = naive.dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null")
    # In a gap, use the offset in force just before it (3 h covers every gap in the tz
    # database): 02:30 in a 02:00->03:00 gap is 02:30 at the old offset, which is 03:30 new.
    before = (naive - pl.duration(hours=3)).dt.replace_time_zone(
        tz, ambiguous="earliest", non_existent="null"
    )
    offset = before.dt.base_utc_offset() + before.dt.dst_offset()
    shifted = (naive - offset).dt.replace_time_zone("UTC")
    return pl.when(aware.is_null()).then(shifted).otherwise(aware.dt.convert_time_zone("UTC"))


def _from_micros(micros: pl.Expr) -> pl.Expr:
    """Return µs since 1970 as Datetime[us, UTC], null outside 0001..9999."""
    inside = micros.is_between(MIN_US, MAX_US)
    return pl.when(inside).then(micros).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")


def epoch_unit(biggest: float | None) -> str:
    """Return the epoch unit whose values reach ``biggest`` around the present day."""
    # Seconds stay below 1e11 until the year 5138; milliseconds pass it in 1973,
    # microseconds pass 1e14 in 1973 and nanoseconds pass 1e17 in 1973.
    if biggest is None or biggest < 1e11:
        return "epoch_s"
    if biggest < 1e14:
        return "epoch_ms"
    return "epoch_us" if biggest < 1e17 else "epoch_ns"


def epoch(col: pl.Expr, unit: str, *, integer: bool) -> pl.Expr:
    """Return epoch numbers in ``unit`` as Datetime[us, UTC] (exact for integers)."""
    if integer:
        value = col.cast(pl.Int64, strict=False)
        if unit == "epoch_ns":
            micros = value // 1_000
        else:
            scale = _PER_US[unit]
            # Range-check before multiplying: an int64 multiplication must not wrap.
            fits = value.is_between(MIN_US // scale, MAX_US // scale)
            micros = pl.when(fits).then(value * scale)
        return _from_micros(micros)
    value = col.cast(pl.Float64, strict=False)
    factor = 0.001 if unit == "epoch_ns" else float(_PER_US[unit])
    scaled = value * factor
    fits = scaled.is_between(float(MIN_US), float(MAX_US))
    return _from_micros(pl.when(fits).then(scaled.round(0)).cast(pl.Int64, strict=False))


def _looks_like_dates(values: list[int]) -> bool:
    if not values:
        return False
    for v in values:
        if not 10_000_101 <= v <= 99_991_231:
            return False
        month, day = v // 100 % 100, v % 100
        if not (1 <= month <= 12 and 1 <= day <= 31):
            return False
    return True


def _compact_dates(text: pl.Expr) -> pl.Expr:
    return text.str.to_date("%Y%m%d", strict=False).cast(pl.Datetime("us"))


def numeric_time(
    path: Path,
    frame: pl.LazyFrame,
    dtype: pl.DataType,
    column: str,
    time_format: str,
    tz: str,
    warnings: list[str],
) -> pl.Expr:
    """Return the expression reading a numeric time column (epochs or YYYYMMDD dates)."""
    col = pl.col(TIME)
    if time_format == "date":
        return local(_compact_dates(col.cast(pl.Int64, strict=False).cast(pl.String)), tz)
    if time_format in ("iso",):
        raise InputError(
            f"{path}: the time column '{column}' holds numbers, not ISO-8601 text",
            hint="use {time_format} epoch_s, epoch_ms, epoch_us, epoch_ns or date",
            options=("time_format",),
        )
    unit = time_format
    if unit == "auto":
        sample = frame.select(col.drop_nulls()).head(2_000).collect().to_series()
        biggest = sample.abs().max() if sample.len() else None
        unit = epoch_unit(float(biggest) if biggest is not None else None)  # type: ignore[arg-type]
        ints = [int(v) for v in sample.to_list() if float(v).is_integer()]
        if unit == "epoch_s" and len(ints) == sample.len() and _looks_like_dates(ints):
            warnings.append(
                f"{path}: column '{column}' holds integers such as {ints[0]} that look like "
                "dates (YYYYMMDD) but are read as epoch seconds; pass --time-format date to "
                "read them as dates"
            )
    return epoch(col, unit, integer=dtype.is_integer())


def datetime_time(dtype: pl.Datetime, tz: str) -> pl.Expr:
    """Return a Datetime column as Datetime[us, UTC], null outside 0001..9999."""
    unit = dtype.time_unit or "us"
    physical = pl.col(TIME).cast(pl.Int64)
    micros = physical // 1_000 if unit == "ns" else physical * (1_000 if unit == "ms" else 1)
    if unit == "ms":
        micros = pl.when(physical.is_between(MIN_US // 1_000, MAX_US // 1_000)).then(micros)
    value = _from_micros(micros)
    return value if dtype.time_zone else local(value.dt.replace_time_zone(None), tz)


def sample_text(path: Path, frame: pl.LazyFrame) -> list[str]:
    """Return up to 2,000 non-empty stripped time values from the start of the file."""
    try:
        sample = frame.select(pl.col(TIME).str.strip_chars()).head(2_000).collect().to_series()
    except pl.exceptions.PolarsError as exc:
        from cjkit.io.files import unreadable

        raise InputError(f"{path}: {unreadable(path, exc)}") from None
    return [v for v in sample.to_list() if v]


def text_time(path: Path, frame: pl.LazyFrame, column: str, time_format: str, tz: str) -> pl.Expr:
    """Return the expression reading a text time column in ``time_format`` (or a guess)."""
    values = sample_text(path, frame)
    if not values:
        if frame.head(1).select(pl.len()).collect().item() == 0:
            raise InputError(f"{path}: no events (the file has a header but no rows)")
        raise InputError(f"{path}: the time column '{column}' is empty (all values are null)")
    fmt = time_format
    if fmt == "auto":
        fmt = _guess(path, values, column)
    text = pl.col(TIME).str.strip_chars()
    if fmt.startswith("epoch"):
        unit = fmt
        if fmt == "epoch_auto":
            unit = epoch_unit(
                max(abs(float(v)) for v in values if _EPOCH.match(v))
                if any(_EPOCH.match(v) for v in values)
                else None
            )
        # Integers parse exactly; a value with a fraction takes the float path.
        return pl.coalesce(epoch(text, unit, integer=True), epoch(text, unit, integer=False))
    if fmt == "date":
        compact = _compact_dates(text)
        dashed = text.str.to_date("%Y-%m-%d", strict=False).cast(pl.Datetime("us"))
        return local(pl.coalesce(compact, dashed), tz)
    return _iso(values, text, tz)


def _iso(values: list[str], text: pl.Expr, tz: str) -> pl.Expr:
    offsets = any(_ISO_OFFSET.search(v) for v in values)
    fast = _fast_format(values, _FAST_UTC if offsets else _FAST_NAIVE)
    direct: pl.Expr | None = None
    if fast is not None:
        # The common shape parses directly, several times faster than normalizing every value;
        # only the values it can't read take the general path.
        direct = pl.col(TIME).str.to_datetime(
            fast, time_unit="us", time_zone="UTC" if offsets else None, strict=False
        )
        text = pl.when(direct.is_null()).then(text)
    norm = text.str.replace(" ", "T", literal=True)
    if offsets:
        norm = norm.str.replace(r"\s+(Z|[+-]\d{2}:?\d{2})$", "$1").str.replace(r"Z$", "+00:00")
        norm = norm.str.replace(r"([+-]\d{2})(\d{2})$", "$1:$2")
        parsed = norm.str.to_datetime(
            "%Y-%m-%dT%H:%M:%S%.f%:z", time_unit="us", time_zone="UTC", strict=False
        )
    else:
        seconds = all(v.count(":") >= 2 for v in values)
        pattern = "%Y-%m-%dT%H:%M:%S%.f" if seconds else "%Y-%m-%dT%H:%M"
        parsed = norm.str.to_datetime(pattern, time_unit="us", strict=False)
    if direct is not None:
        parsed = pl.coalesce(direct, parsed)
    return parsed if offsets else local(parsed, tz)


_FAST_UTC = {
    "%Y-%m-%dT%H:%M:%SZ": re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"),
    "%Y-%m-%d %H:%M:%SZ": re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z$"),
}
_FAST_NAIVE = {
    "%Y-%m-%dT%H:%M:%S": re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$"),
    "%Y-%m-%d %H:%M:%S": re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"),
}


def _fast_format(values: list[str], formats: dict[str, re.Pattern[str]]) -> str | None:
    """Return the exact format every sampled value has, when it is one of ``formats``."""
    for fmt, shape in formats.items():
        if all(shape.match(v) for v in values):
            return fmt
    return None


def _guess(path: Path, values: list[str], column: str) -> str:
    kinds = set()
    for value in values:
        if _ISO.match(value):
            kinds.add("iso")
        elif _DATE.match(value) or _COMPACT_DATE.match(value):
            kinds.add("date")
        elif _EPOCH.match(value):
            kinds.add("epoch")
        else:
            raise InputError(
                f"{path}: can't read {value!r} in column '{column}' as a time "
                "(expected ISO-8601 such as 2025-01-31T09:30:00Z, a date, or epoch seconds)",
                hint="set {time_format} when the column is ambiguous",
                options=("time_format",),
            )
    if len(kinds) > 1:
        raise InputError(
            f"{path}: column '{column}' mixes time formats ({', '.join(sorted(kinds))}), "
            f"e.g. {values[0]!r}",
            hint="convert the column to one format, or pass {time_format}",
            options=("time_format",),
        )
    return {"iso": "iso", "date": "date", "epoch": "epoch_auto"}[kinds.pop()]


def canonical_time(
    path: Path,
    frame: pl.LazyFrame,
    dtype: pl.DataType,
    column: str,
    time_format: str,
    tz: str,
    warnings: list[str],
) -> pl.LazyFrame:
    """Return ``frame`` with ``timestamp`` as Datetime[us, UTC] and ``__raw_time`` as text."""
    col = pl.col(TIME)
    if isinstance(dtype, pl.Datetime):
        expr = datetime_time(dtype, tz)
        raw: pl.Expr = pl.when(expr.is_null()).then(col.cast(pl.Int64).cast(pl.String))
    elif isinstance(dtype, pl.Date):
        expr = local(col.cast(pl.Datetime("us")), tz)
        raw = pl.lit(None, pl.String)
    elif dtype.is_numeric():
        expr = numeric_time(path, frame, dtype, column, time_format, tz, warnings)
        raw = col.cast(pl.String)
    elif dtype == pl.String:
        return frame.with_columns(
            col.alias(RAW_TIME), text_time(path, frame, column, time_format, tz).alias(TIME)
        )
    elif dtype == pl.Null:
        raise InputError(f"{path}: the time column '{column}' is empty (all values are null)")
    else:
        raise InputError(f"{path}: the time column '{column}' has type {dtype}, not a time")
    return frame.with_columns(raw.alias(RAW_TIME), expr.alias(TIME))
