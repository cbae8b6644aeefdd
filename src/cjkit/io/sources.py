"""Read events (CSV, TSV, gzip'd CSV, Parquet, NDJSON; files, globs, folders, stdin) lazily.

The result has the canonical columns ``user_id`` and ``event`` (String: identifiers are text in
every format) and ``timestamp`` (Datetime[us, UTC]) plus every other column as a property.
Nested properties are reached by dotted paths (:mod:`cjkit.io.nested`), on demand; presets
(:mod:`cjkit.io.presets`) and identity merging (:mod:`cjkit.io.identity`) are applied here.
Nothing is collected except small samples (to choose how to parse times and type JSON
values) and, with identity merging, the small anonymous-to-user map.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from cjkit.canonical import EVENT, TIME, USER  # re-exported (in __all__) for sources.USER
from cjkit.errors import InputError, did_you_mean
from cjkit.io import identity as ids
from cjkit.io import nested, presets, times
from cjkit.io.files import (  # re-exported: callers import these from sources
    INPUT_FORMATS,
    STDIN,
    describe_read_error,
    expand,
    file_format,
    first_line,
    scan,
    schema,
    size,
)
from cjkit.io.identity import Identity
from cjkit.io.presets import RevenueRule
from cjkit.io.quality import quality, raise_for_quality  # re-exported: sources.quality
from cjkit.io.times import RAW_TIME, TIME_DTYPE, TIME_FORMATS

CLASH_SUFFIX = "_in_file"  # a file column named like a canonical one, when another takes its role

__all__ = [
    "EVENT",
    "INPUT_FORMATS",
    "RAW_TIME",
    "STDIN",
    "TIME",
    "TIME_DTYPE",
    "TIME_FORMATS",
    "USER",
    "ColumnMap",
    "Events",
    "describe_read_error",
    "expand",
    "file_format",
    "first_line",
    "quality",
    "raise_for_quality",
    "read",
]


@dataclass(frozen=True)
class ColumnMap:
    """Which input columns hold the unit, the event name and the time, and how to read time."""

    user: str = USER
    event: str = EVENT
    time: str = TIME
    tz: str = "UTC"
    time_format: str = "auto"
    # Database inputs (cjkit.io.remote): the table or the SQL query to read.
    table: str | None = None
    query: str | None = None
    # Reading vendor exports (cjkit.io.presets sets these; a map or flags may too).
    preset: str | None = None
    input_format: str | None = None
    identity: Identity | None = None
    event_value: str | None = None
    event_fallback: str | None = None
    aliases: Mapping[str, str] = field(default_factory=dict)
    revenue: RevenueRule | None = None
    # The share of rows that may be dropped (no unit or no time) before a read fails, and the
    # name the error gives that limit (``--max-dropped``); None: CJKIT_MAX_DROPPED, else no limit.
    max_dropped: float | None = None
    max_dropped_name: str = "max_dropped"


class Columns(dict[str, pl.DataType]):
    """The event columns; a dotted path that is not a column yet is resolved on first use."""

    def __init__(self, items: Mapping[str, pl.DataType], resolve: Callable[[str], bool]) -> None:
        super().__init__(items)
        self._resolve = resolve

    def __contains__(self, key: object) -> bool:
        if super().__contains__(key):
            return True
        return isinstance(key, str) and "." in key and self._resolve(key)

    def __getitem__(self, key: str) -> pl.DataType:
        if not super().__contains__(key) and "." in key:
            self._resolve(key)
        return super().__getitem__(key)


@dataclass
class Events:
    """Canonical events as a LazyFrame, and what was read to make them."""

    frame: pl.LazyFrame
    files: list[str]
    columns: dict[str, pl.DataType]
    tz: str
    per_file: list[pl.LazyFrame] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Identity merging: anonymous ids counted for a user, and those tied to several users.
    merged_ids: int | None = None
    identity_conflicts: int | None = None
    preset: str | None = None
    # Rows of an in-memory frame (no file to estimate them from).
    known_rows: int | None = None
    source_columns: list[str] = field(default_factory=list)  # the first file's own columns
    max_dropped: tuple[float, str] | None = None  # (share, its name) from the column map

    def __post_init__(self) -> None:
        self.columns = Columns(self.columns, self._add_path)

    def _add_path(self, name: str) -> bool:
        found = nested.resolve(self.frame, dict.copy(self.columns), name)
        if found is None:
            return False
        expr, dtype = found
        self.frame = self.frame.with_columns(expr.alias(name))
        dict.__setitem__(self.columns, name, dtype)
        return True

    def resolve(self, names: Sequence[str]) -> None:
        """Add the dotted paths among ``names`` as columns (lazily); unknown names are left."""
        for name in names:
            _ = name in self.columns

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
        if self.known_rows is not None:
            return self.known_rows
        total = 0
        for name in self.files:
            path = Path(name)
            if name != STDIN and file_format(path) == "parquet":
                total += pl.scan_parquet(path).select(pl.len()).collect().item()
            else:
                gz = path.suffix.lower() in (".gz", ".gzip")
                total += size(path) // (15 if gz else 50)
        return total

    def require(self, names: Sequence[str], what: str, *, option: bool = False) -> None:
        """Raise InputError naming the first of ``names`` that is not a column or path;
        ``what`` says what needs it (with ``option``, an option's field name: ``by``)."""
        for name in names:
            if name not in self.columns or name == RAW_TIME:
                raise InputError(
                    f"{what}: no column '{name}' in the events "
                    f"(columns: {', '.join(self.columns)})",
                    hint=did_you_mean(name, list(self.columns)),
                    option=what if option else None,
                )


def _canonical_time(path: Path, frame: pl.LazyFrame, dtype: pl.DataType, cmap: ColumnMap) -> Any:
    """Return ``frame`` with the canonical time (for sources renamed already, as remote's)."""
    return times.canonical_time(path, frame, dtype, cmap.time, cmap.time_format, cmap.tz, [])


def _text_columns(cmap: ColumnMap) -> list[str]:
    names = [cmap.user, cmap.event, cmap.time]
    if cmap.identity:
        names += [cmap.identity.anonymous, cmap.identity.user]
    return [n.split(".")[0] for n in names] + names


def _role(
    path: Path,
    frame: pl.LazyFrame,
    columns: dict[str, pl.DataType],
    role: str,
    name: str,
    shown: list[str],
) -> pl.Expr:
    if name in columns:
        return pl.col(name)
    found = nested.resolve(frame, columns, name, typed=False)
    if found is not None:
        return found[0]
    hint = did_you_mean(name, shown)
    shape = presets.detect(shown)
    if shape:
        hint = f"the file looks like a {shape} export: pass --preset {shape}"
    raise InputError(
        f"{path}: no {role} column '{name}' (columns: {', '.join(shown)})",
        hint=(f"{hint} Set it with --{role}-col." if hint else f"set it with --{role}-col"),
    )


def _roles(
    path: Path, frame: pl.LazyFrame, columns: dict[str, pl.DataType], cmap: ColumnMap
) -> pl.LazyFrame:
    """Return ``frame`` with the canonical unit, event and time columns (time still raw)."""
    _check_duplicates(path, columns)
    shown = list(columns)
    used = {cmap.user, cmap.event, cmap.time}
    # A file column named like a canonical one whose role another column takes stays readable.
    clash = {c: f"{c}{CLASH_SUFFIX}" for c in (USER, EVENT, TIME) if c in columns and c not in used}
    if clash:
        frame = frame.rename(clash)
        columns = {clash.get(k, k): v for k, v in columns.items()}
    constant = cmap.event_value is not None and cmap.event not in columns
    user = _role(path, frame, columns, "user", cmap.user, shown)
    event = (
        pl.lit(cmap.event_value)
        if constant
        else _role(path, frame, columns, "event", cmap.event, shown)
    )
    when = _role(path, frame, columns, "time", cmap.time, shown)
    if cmap.event_fallback and cmap.event_fallback in columns:
        event = pl.coalesce(event.cast(pl.String), pl.col(cmap.event_fallback).cast(pl.String))
    # Top-level role columns are replaced by the canonical ones; nested ones keep their parent.
    top = [n for n in dict.fromkeys((cmap.user, cmap.event, cmap.time)) if n in columns]
    frame = frame.with_columns(
        user.cast(pl.String).alias("__u"), event.cast(pl.String).alias("__e"), when.alias("__t")
    )
    frame = frame.drop(top)
    frame = frame.rename({"__u": USER, "__e": EVENT, "__t": TIME})
    return frame.select(USER, EVENT, TIME, pl.exclude(USER, EVENT, TIME))


def _check_duplicates(path: Path, columns: dict[str, pl.DataType]) -> None:
    import re

    names = list(columns)
    # The CSV reader renames a repeated header to NAME_duplicated_N instead of failing.
    for name in names:
        match = re.match(r"^(?P<name>.+)_duplicated_\d+$", name)
        if match and match["name"] in names:
            raise InputError(f"{path}: duplicate column name {match['name']!r} in the header")


Source = Sequence[str] | str | Path | pl.LazyFrame | pl.DataFrame
"""What the library reads: paths, globs or folders (one or several), or a Polars frame."""


def read(paths: Source, cmap: ColumnMap | None = None) -> Events:
    """Return the canonical events of every file under ``paths`` (or of a Polars frame);
    raise InputError when unreadable."""
    cmap = cmap or ColumnMap()
    if isinstance(paths, pl.LazyFrame | pl.DataFrame):
        return _read_frame(paths, cmap)
    if isinstance(paths, str | Path):
        paths = [str(paths)]
    if cmap.time_format not in TIME_FORMATS:
        raise InputError(
            f"unknown time format '{cmap.time_format}' (expected {', '.join(TIME_FORMATS)})"
        )
    if cmap.input_format is not None and cmap.input_format not in INPUT_FORMATS:
        raise InputError(
            f"unknown input format '{cmap.input_format}' (expected {', '.join(INPUT_FORMATS)})"
        )
    # --- remote inputs: PostgreSQL, DuckDB files, object stores (cjkit.io.remote) ---
    remote = _remote()
    if remote is not None and remote.is_remote(paths, cmap):
        return finish(remote.read(paths, cmap), cmap)
    # --- end of remote inputs ---
    files = expand(paths, cmap.input_format)
    frames: list[pl.LazyFrame] = []
    schemas: list[dict[str, pl.DataType]] = []
    warnings: list[str] = []
    text = _text_columns(cmap)
    source_columns: list[str] = []
    for path in files:
        frame = scan(path, text, cmap.input_format)
        columns = schema(path, frame)
        source_columns = source_columns or list(columns)
        frame = _roles(path, frame, columns, cmap)
        dtype = schema(path, frame)[TIME]
        frame = times.canonical_time(
            path, frame, dtype, cmap.time, cmap.time_format, cmap.tz, warnings
        )
        frames.append(frame)
        schemas.append(dict(frame.collect_schema()))
    frame, columns = _union(files, frames, schemas)
    columns.pop(RAW_TIME, None)
    events = Events(frame, [str(f) for f in files], columns, cmap.tz, per_file=frames)
    events.warnings.extend(warnings)
    events.source_columns = source_columns
    return finish(events, cmap)


def _remote() -> Any:
    # The remote sources land in their own module; a tree without it reads files only.
    try:
        return importlib.import_module("cjkit.io.remote")
    except ImportError:
        return None


def _read_frame(source: pl.LazyFrame | pl.DataFrame, cmap: ColumnMap) -> Events:
    """Return the canonical events of an in-memory frame, read like one file of that name."""
    label = Path(f"<{type(source).__name__}>")  # messages say where, as they do for a file
    frame = source.lazy()
    columns = schema(label, frame)
    frame = _roles(label, frame, columns, cmap)
    warnings: list[str] = []
    frame = times.canonical_time(
        label, frame, schema(label, frame)[TIME], cmap.time, cmap.time_format, cmap.tz, warnings
    )
    events = Events(frame, [str(label)], dict(frame.collect_schema()), cmap.tz, per_file=[frame])
    events.columns.pop(RAW_TIME, None)
    events.warnings.extend(warnings)
    events.source_columns = list(columns)
    events.known_rows = (
        source.height
        if isinstance(source, pl.DataFrame)
        else int(source.select(pl.len()).collect().item())
    )
    return finish(events, cmap)


def finish(events: Events, cmap: ColumnMap) -> Events:
    """Apply the aliases, the revenue rule and identity merging of ``cmap`` to ``events``."""
    events.preset = cmap.preset
    if cmap.max_dropped is not None:
        events.max_dropped = (cmap.max_dropped, cmap.max_dropped_name)
    for name, source in cmap.aliases.items():
        if name in events.columns or source not in events.columns:
            continue
        # A usual path this export never fills (a JSON key no sampled row has) is left out.
        if "." in source and _empty(events.frame, source):
            continue
        dict.__setitem__(events.columns, name, events.columns[source])
        events.frame = events.frame.with_columns(pl.col(source).alias(name))
    if cmap.revenue is not None:
        _revenue(events, cmap.revenue)
    if cmap.identity is not None:
        _merge(events, cmap)
    return events


def _empty(frame: pl.LazyFrame, column: str) -> bool:
    sample = frame.select(pl.col(column)).head(nested.SAMPLE_ROWS * 20).drop_nulls().head(1)
    return sample.collect().height == 0


def _revenue(events: Events, rule: RevenueRule) -> None:
    """Null the amounts of excluded rows and make refund amounts negative."""
    excluded = pl.lit(value=False)
    for prop, value in rule.exclude.items():
        if prop not in events.columns:
            continue
        col = pl.col(prop)
        if isinstance(value, dict) and "exists" in value:
            test = col.is_not_null() if value["exists"] else col.is_null()
        elif isinstance(value, list):
            test = col.cast(pl.String).str.to_lowercase().is_in([str(v).lower() for v in value])
        else:
            test = col.cast(pl.String).str.to_lowercase() == str(value).lower()
        excluded = excluded | test.fill_null(value=False)
    refund = pl.col(EVENT).is_in(list(rule.refunds))
    for amount in rule.amount:
        if amount not in events.columns:
            continue
        value = pl.col(amount).cast(pl.Float64, strict=False)
        events.frame = events.frame.with_columns(
            pl.when(excluded)
            .then(None)
            .when(refund)
            .then(-value.abs())
            .otherwise(value)
            .alias(amount)
        )
        dict.__setitem__(events.columns, amount, pl.Float64())


def _merge(events: Events, cmap: ColumnMap) -> None:
    rule = cmap.identity
    assert rule is not None
    exprs = []
    for name in (rule.anonymous, rule.user):
        if name == cmap.user:
            exprs.append(pl.col(USER))
        elif name in events.columns:
            exprs.append(pl.col(name))
        else:
            raise InputError(
                f"identity: no column '{name}' in the events (columns: {', '.join(events.columns)})",
                hint=did_you_mean(name, list(events.columns)),
            )
    anon, user = exprs
    try:
        idmap = ids.build(events.frame, anon, user, TIME)
    except pl.exceptions.PolarsError as exc:
        files = events.files[0] if len(events.files) == 1 else f"{len(events.files)} files"
        raise InputError(describe_read_error(files, exc)) from None
    fallback = anon if rule.anonymous != cmap.user else None
    events.frame = ids.apply(events.frame, USER, fallback, idmap)
    events.merged_ids = idmap.merged
    events.identity_conflicts = idmap.conflicts
    if idmap.conflicts:
        events.warnings.append(
            f"identity: {idmap.conflicts:,} anonymous id(s) are tied to more than one user; "
            "each counts for the first (run cjkit inspect for details)"
        )


def _nested_kind(dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.Struct):
        return "struct"
    if isinstance(dtype, pl.List | pl.Array):
        return "list"
    return "scalar"


def _union(
    files: list[Path], frames: list[pl.LazyFrame], schemas: list[dict[str, pl.DataType]]
) -> tuple[pl.LazyFrame, dict[str, pl.DataType]]:
    if len(frames) == 1:
        return frames[0], schemas[0]
    # A column that is a scalar in one file and a struct or list in another can't be combined
    # without inventing values: name both files and types.
    first: dict[str, tuple[Path, pl.DataType]] = {}
    for path, cols in zip(files, schemas, strict=True):
        for name, dtype in cols.items():
            if dtype == pl.Null:
                continue
            seen = first.setdefault(name, (path, dtype))
            if _nested_kind(seen[1]) != _nested_kind(dtype):
                raise InputError(
                    f"column '{name}' is {seen[1]} in {seen[0]} but {dtype} in {path}: "
                    "the files' schemas conflict"
                )
    combined = pl.concat(frames, how="diagonal_relaxed")
    try:
        return combined, dict(combined.collect_schema())
    except pl.exceptions.PolarsError as exc:
        raise InputError(f"the files don't share compatible columns: {first_line(exc)}") from None
