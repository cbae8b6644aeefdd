"""Read event files (CSV, TSV, gzip'd CSV, Parquet, NDJSON; files, globs, folders) lazily.

The result has the canonical columns ``user_id``, ``event`` (String) and ``timestamp``
(Datetime[us, UTC]) plus every other column as a property. Nothing is collected here except a
small sample of each file's time column, to choose how to parse it; Polars reads only the columns
a query ends up using.
"""

from __future__ import annotations

import glob as globlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from cjkit.errors import InputError, did_you_mean

USER, EVENT, TIME = "user_id", "event", "timestamp"
RAW_TIME = "__raw_time"  # the time as text, kept so an unparseable value can be named
TIME_DTYPE = pl.Datetime("us", "UTC")

_FORMATS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".tsv": "tsv",
    ".txt": "csv",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
    ".json": "ndjson",
}
TIME_FORMATS = ("auto", "iso", "date", "epoch_s", "epoch_ms")


@dataclass(frozen=True)
class ColumnMap:
    """Which input columns hold the unit, the event name and the time, and how to read time."""

    user: str = USER
    event: str = EVENT
    time: str = TIME
    tz: str = "UTC"
    time_format: str = "auto"


@dataclass
class Events:
    """Canonical events as a LazyFrame, and what was read to make them."""

    frame: pl.LazyFrame
    files: list[str]
    columns: dict[str, pl.DataType]
    tz: str
    per_file: list[pl.LazyFrame] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def properties(self) -> list[str]:
        """Return the property columns (everything but unit, event and time)."""
        return [c for c in self.columns if c not in (USER, EVENT, TIME, RAW_TIME)]

    def clean(self) -> pl.LazyFrame:
        """Return the events with a unit and a time (rows missing either are dropped)."""
        return self.frame.filter(pl.col(USER).is_not_null() & pl.col(TIME).is_not_null()).drop(
            RAW_TIME
        )

    def estimated_rows(self) -> int:
        """Return the number of rows: exact for Parquet (from its footer), else estimated from
        the file size (about 50 bytes per text row, 15 per gzip'd row)."""
        total = 0
        for name in self.files:
            path = Path(name)
            fmt = file_format(path)
            if fmt == "parquet":
                total += pl.scan_parquet(path).select(pl.len()).collect().item()
            else:
                gz = path.suffix.lower() in (".gz", ".gzip")
                total += path.stat().st_size // (15 if gz else 50)
        return total

    def require(self, names: Sequence[str], what: str) -> None:
        """Raise InputError naming the first of ``names`` that is not a column."""
        for name in names:
            if name not in self.columns or name == RAW_TIME:
                raise InputError(
                    f"{what}: no column '{name}' in the events "
                    f"(columns: {', '.join(self.columns)})",
                    hint=did_you_mean(name, self.columns),
                )


def file_format(path: Path) -> str | None:
    """Return the reader for a file by its suffix (``.csv.gz`` reads as csv), or None."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".gz", ".gzip"):
        suffixes = suffixes[:-1]
    return _FORMATS.get(suffixes[-1]) if suffixes else None


def expand(paths: Sequence[str]) -> list[Path]:
    """Return the data files named by paths, globs and folders, sorted; raise InputError."""
    if not paths:
        raise InputError("no event files given")
    files: list[Path] = []
    for text in paths:
        if any(ch in text for ch in "*?["):
            matched = sorted(Path(p) for p in globlib.glob(text, recursive=True))
            matched = [p for p in matched if p.is_file() and file_format(p)]
            if not matched:
                raise InputError(f"{text}: the pattern matches no event files")
            files.extend(matched)
            continue
        path = Path(text)
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and file_format(p) and not p.name.startswith((".", "_"))
            )
            if not found:
                raise InputError(
                    f"{text}: the folder holds no event files "
                    "(.csv, .tsv, .csv.gz, .parquet, .ndjson, .jsonl)"
                )
            files.extend(found)
        elif path.is_file():
            if file_format(path) is None:
                raise InputError(
                    f"{text}: unknown file type '{path.suffix}' "
                    "(expected .csv, .tsv, .csv.gz, .parquet, .ndjson or .jsonl)"
                )
            files.append(path)
        else:
            raise InputError(f"{text}: no such file or folder")
    return list(dict.fromkeys(files))


def _hive_columns(path: Path) -> dict[str, str]:
    return dict(part.split("=", 1) for part in path.parent.parts if "=" in part)


def _scan(path: Path) -> pl.LazyFrame:
    fmt = file_format(path)
    name = str(path)
    if path.stat().st_size == 0:
        raise InputError(f"{name}: the file is empty")
    if fmt == "parquet":
        frame = pl.scan_parquet(path)
    elif fmt in ("csv", "tsv"):
        frame = pl.scan_csv(
            path,
            separator="\t" if fmt == "tsv" else ",",
            infer_schema_length=10_000,
            encoding="utf8",
            raise_if_empty=True,
        )
    else:
        frame = pl.scan_ndjson(path, infer_schema_length=10_000)
    hive = _hive_columns(path)
    if hive:
        frame = frame.with_columns(pl.lit(v).alias(k) for k, v in hive.items())
    return frame


def _schema(path: Path, frame: pl.LazyFrame) -> dict[str, pl.DataType]:
    try:
        return dict(frame.collect_schema())
    except InputError:
        raise
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: can't read the file: {first_line(exc)}") from None


def describe_read_error(path: str, exc: BaseException) -> str:
    """Return a one-line message for a read error, naming the line of a ragged CSV row."""
    text = first_line(exc)
    if "more fields than defined" in text or "fewer fields" in text:
        where = _ragged_line(Path(path))
        if where:
            return f"{path}: {where}"
    return f"{path}: can't read the events: {text}"


def _ragged_line(path: Path) -> str | None:
    # Only on the error path: find the first line whose field count differs from the header's.
    fmt = file_format(path)
    if fmt not in ("csv", "tsv") or path.suffix.lower() in (".gz", ".gzip"):
        return None
    sep = "\t" if fmt == "tsv" else ","
    lines = pl.read_csv(
        path,
        has_header=False,
        separator="\x1f",
        quote_char=None,
        new_columns=["line"],
        schema_overrides={"line": pl.String},
        infer_schema=False,
    ).with_row_index("n", offset=1)
    # Separators inside double-quoted fields don't count: drop quoted parts first.
    fields = pl.col("line").str.replace_all(r'"[^"]*"', "").str.count_matches(sep, literal=True) + 1
    counted = lines.with_columns(fields.alias("fields"))
    header = counted["fields"][0]
    bad = counted.filter((pl.col("fields") != header) & (pl.col("line").str.strip_chars() != ""))
    if bad.height == 0:
        return None
    row = bad.row(0, named=True)
    return f"line {row['n']:,} has {row['fields']} fields, the header has {header}"


def first_line(exc: BaseException) -> str:
    """Return the first line of an error's text, in words a user can act on."""
    text = str(exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    if "invalid utf-8" in line.lower() or "utf8" in line.lower():
        return "it is not UTF-8 text (convert it with iconv -t UTF-8)"
    return line


def read(paths: Sequence[str], cmap: ColumnMap | None = None) -> Events:
    """Return the canonical events of every file under ``paths``; raise InputError when unreadable."""
    cmap = cmap or ColumnMap()
    if cmap.time_format not in TIME_FORMATS:
        raise InputError(
            f"unknown time format '{cmap.time_format}' (expected {', '.join(TIME_FORMATS)})"
        )
    files = expand(paths)
    frames: list[pl.LazyFrame] = []
    schemas: list[dict[str, pl.DataType]] = []
    for path in files:
        frame = _scan(path)
        columns = _schema(path, frame)
        _check_columns(path, columns, cmap)
        frame = frame.rename({cmap.user: USER, cmap.event: EVENT, cmap.time: TIME}, strict=False)
        frame = _canonical_time(path, frame, columns[cmap.time], cmap)
        frame = frame.with_columns(pl.col(EVENT).cast(pl.String))
        frames.append(frame)
        schemas.append(dict(frame.collect_schema()))
    frame, columns = _union(frames, schemas)
    columns.pop(RAW_TIME, None)
    return Events(frame, [str(f) for f in files], columns, cmap.tz, per_file=frames)


_DUPLICATED = re.compile(r"^(?P<name>.+)_duplicated_\d+$")


def _check_columns(path: Path, columns: dict[str, pl.DataType], cmap: ColumnMap) -> None:
    names = list(columns)
    # The CSV reader renames a repeated header to NAME_duplicated_N instead of failing.
    for name in names:
        match = _DUPLICATED.match(name)
        if match and match["name"] in names:
            raise InputError(f"{path}: duplicate column name {match['name']!r} in the header")
    for role, name in (("user", cmap.user), ("event", cmap.event), ("time", cmap.time)):
        if name not in columns:
            hint = did_you_mean(name, names)
            raise InputError(
                f"{path}: no {role} column '{name}' (columns: {', '.join(names)})",
                hint=(f"{hint} Set it with --{role}-col." if hint else f"set it with --{role}-col"),
            )


def _union(
    frames: list[pl.LazyFrame], schemas: list[dict[str, pl.DataType]]
) -> tuple[pl.LazyFrame, dict[str, pl.DataType]]:
    if len(frames) == 1:
        return frames[0], schemas[0]
    # Files may disagree on a column's type (a CSV infers integers where another file has
    # strings): relax to a common supertype, falling back to text for the unit id.
    user_types = {s[USER] for s in schemas}
    if len(user_types) > 1 and not all(t.is_integer() for t in user_types):
        frames = [f.with_columns(pl.col(USER).cast(pl.String)) for f in frames]
    combined = pl.concat(frames, how="diagonal_relaxed")
    try:
        return combined, dict(combined.collect_schema())
    except pl.exceptions.PolarsError as exc:
        raise InputError(f"the files don't share compatible columns: {first_line(exc)}") from None


_ISO_OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_COMPACT_DATE = re.compile(r"^\d{8}$")
_EPOCH = re.compile(r"^-?\d{9,13}(\.\d+)?$")


def _canonical_time(
    path: Path, frame: pl.LazyFrame, dtype: pl.DataType, cmap: ColumnMap
) -> pl.LazyFrame:
    col = pl.col(TIME)
    if isinstance(dtype, pl.Datetime):
        expr = col.dt.cast_time_unit("us")
        expr = (
            expr.dt.convert_time_zone("UTC")
            if dtype.time_zone
            else expr.dt.replace_time_zone(
                cmap.tz, ambiguous="earliest", non_existent="null"
            ).dt.convert_time_zone("UTC")
        )
    elif isinstance(dtype, pl.Date):
        expr = _local(col.cast(pl.Datetime("us")), cmap.tz)
    elif dtype.is_numeric():
        expr = _epoch(col, path, frame, cmap.time_format)
    elif dtype == pl.String:
        raw = pl.col(TIME).alias(RAW_TIME)
        return frame.with_columns(raw, _parse_text(path, frame, cmap).alias(TIME))
    elif dtype == pl.Null:
        raise InputError(f"{path}: the time column '{cmap.time}' is empty (all values are null)")
    else:
        raise InputError(f"{path}: the time column '{cmap.time}' has type {dtype}, not a time")
    return frame.with_columns(pl.lit(None, pl.String).alias(RAW_TIME), expr.alias(TIME))


def _local(expr: pl.Expr, tz: str) -> pl.Expr:
    return expr.dt.replace_time_zone(
        tz, ambiguous="earliest", non_existent="null"
    ).dt.convert_time_zone("UTC")


def _epoch(col: pl.Expr, path: Path, frame: pl.LazyFrame, time_format: str) -> pl.Expr:
    unit = time_format
    if unit not in ("epoch_s", "epoch_ms"):
        sample = frame.head(10_000).select(col.drop_nulls().abs().max()).collect()
        biggest = sample.item() if sample.height else None
        # Seconds since 1970 stay below 1e11 until the year 5138; milliseconds pass it in 1973.
        unit = "epoch_ms" if biggest is not None and biggest >= 1e11 else "epoch_s"
    scale = 1_000 if unit == "epoch_ms" else 1_000_000
    micros = (col.cast(pl.Float64) * scale).round(0).cast(pl.Int64)
    return pl.from_epoch(micros, time_unit="us").dt.replace_time_zone("UTC")


def _sample_text(path: Path, frame: pl.LazyFrame) -> list[str]:
    try:
        sample = frame.select(pl.col(TIME).str.strip_chars()).head(2_000).collect().to_series()
    except pl.exceptions.PolarsError as exc:
        raise InputError(f"{path}: can't read the file: {first_line(exc)}") from None
    return [v for v in sample.to_list() if v]


def _parse_text(path: Path, frame: pl.LazyFrame, cmap: ColumnMap) -> pl.Expr:
    values = _sample_text(path, frame)
    if not values:
        if frame.head(1).select(pl.len()).collect().item() == 0:
            raise InputError(f"{path}: no events (the file has a header but no rows)")
        raise InputError(f"{path}: the time column '{cmap.time}' is empty (all values are null)")
    fmt = cmap.time_format
    if fmt == "auto":
        fmt = _guess(path, values, cmap.time)
    text = pl.col(TIME).str.strip_chars()
    if fmt.startswith("epoch"):
        return _epoch(text.cast(pl.Float64, strict=False), path, frame, fmt)
    if fmt == "date":
        pattern = "%Y%m%d" if _COMPACT_DATE.match(values[0]) else "%Y-%m-%d"
        return _local(text.str.to_date(pattern, strict=False).cast(pl.Datetime("us")), cmap.tz)
    offsets = any(_ISO_OFFSET.search(v) for v in values)
    fast = _fast_format(values, _FAST_UTC if offsets else _FAST_NAIVE)
    if fast is not None:
        # The common shape parses directly, several times faster than normalizing every value;
        # only the values it can't read (a fraction, spaces, another offset) take the general
        # path, which is cheap on a column that is then almost all null.
        direct = pl.col(TIME).str.to_datetime(
            fast, time_unit="us", time_zone="UTC" if offsets else None, strict=False
        )
        text = pl.when(direct.is_null()).then(text)
    if offsets:
        norm = text.str.replace(" ", "T", literal=True).str.replace(r"Z$", "+00:00")
        norm = norm.str.replace(r"([+-]\d{2})(\d{2})$", "$1:$2")
        parsed = norm.str.to_datetime(
            "%Y-%m-%dT%H:%M:%S%.f%:z", time_unit="us", time_zone="UTC", strict=False
        )
    else:
        norm = text.str.replace(" ", "T", literal=True)
        seconds = all(v.count(":") >= 2 for v in values)
        pattern = "%Y-%m-%dT%H:%M:%S%.f" if seconds else "%Y-%m-%dT%H:%M"
        parsed = norm.str.to_datetime(pattern, time_unit="us", strict=False)
    if fast is not None:
        parsed = pl.coalesce(direct, parsed)
    return parsed if offsets else _local(parsed, cmap.tz)


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
                hint="set --time-format when the column is ambiguous",
            )
    if len(kinds) > 1:
        raise InputError(
            f"{path}: column '{column}' mixes time formats ({', '.join(sorted(kinds))}), "
            f"e.g. {values[0]!r}",
            hint="convert the column to one format, or pass --time-format",
        )
    kind = kinds.pop()
    return {"iso": "iso", "date": "date", "epoch": "epoch_auto"}[kind]


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
            "expected a real date and time in one format, such as 2025-01-31T09:30:00Z"
        )
    dropped = int(row["null_user"] or 0) + int(row["null_time"] or 0)  # type: ignore[call-overload]
    if dropped:
        events.warnings.append(
            f"dropped {dropped:,} row(s) with no unit or no time "
            f"({int(row['null_user'] or 0):,} without a unit, "  # type: ignore[call-overload]
            f"{int(row['null_time'] or 0):,} without a time)"  # type: ignore[call-overload]
        )


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
