"""Canonical events as a Spark DataFrame: whatever Spark reads, renamed and typed like cjkit's.

Paths, globs and folders of Parquet, CSV or NDJSON (``s3://`` is read as Hadoop's ``s3a://``),
or a catalog table (``--table``). The unit, event and time columns are renamed to ``user_id``,
``event`` and ``timestamp``; the unit and the event become strings (as the local reader makes
them), and the time a UTC instant: Spark timestamps as they are, naive ones (``TIMESTAMP_NTZ``)
and dates read in ``--tz``, text by Spark's ISO-8601 parser, numbers as epoch seconds or
milliseconds (by magnitude, or ``--time-format``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cjkit.canonical import EVENT, TIME, USER
from cjkit.errors import InputError, UsageError
from cjkit.io import sources

_EPOCH_MS = 1e11  # as the local reader: seconds stay below this until the year 5138


def _reader_format(path: str) -> str:
    lowered = path.lower().rstrip("/")
    for suffix, fmt in (
        (".parquet", "parquet"),
        (".pq", "parquet"),
        (".csv", "csv"),
        (".csv.gz", "csv"),
        (".tsv", "tsv"),
        (".ndjson", "json"),
        (".jsonl", "json"),
        (".json", "json"),
    ):
        if lowered.endswith(suffix):
            return fmt
    return "parquet"  # a folder or a table location: Spark's usual Parquet/Delta layout


def read(spark: Any, paths: Sequence[str], cmap: sources.ColumnMap) -> Any:
    """Return the events under ``paths`` (or ``cmap.table``) as canonical Spark events."""
    from pyspark.errors import AnalysisException

    try:
        if cmap.table:
            frame = spark.table(cmap.table)
        else:
            if not paths:
                raise InputError("no event files given")
            fixed = [("s3a://" + p[5:]) if p.lower().startswith("s3://") else p for p in paths]
            formats = {_reader_format(p) for p in fixed}
            if len(formats) > 1:
                raise UsageError(
                    "engine spark reads one format at a time (got a mix)", option="engine"
                )
            fmt = formats.pop()
            reader = spark.read
            if fmt in ("csv", "tsv"):
                reader = reader.option("header", "true").option("inferSchema", "true")
                if fmt == "tsv":
                    reader = reader.option("sep", "\t")
                frame = reader.csv(fixed)
            elif fmt == "json":
                frame = reader.json(fixed)
            else:
                frame = reader.parquet(*fixed)
    except AnalysisException as exc:
        where = cmap.table or ", ".join(paths)
        raise InputError(f"{where}: Spark can't read it: {str(exc).splitlines()[0]}") from None
    return canonical(frame, cmap)


def canonical(frame: Any, cmap: sources.ColumnMap) -> Any:
    """Return ``frame`` with the canonical unit, event and time columns; raise InputError."""
    from pyspark.sql import functions as sf
    from pyspark.sql import types as st

    names = frame.columns
    for role, name in (("user", cmap.user), ("event", cmap.event), ("time", cmap.time)):
        if name not in names:
            raise InputError(
                f"no {role} column '{name}' (columns: {', '.join(names)})",
                hint=f"set it with --{role}-col",
            )
    kinds = {f.name: f.dataType for f in frame.schema.fields}
    time_type = kinds[cmap.time]
    col = sf.col(f"`{cmap.time}`")
    if isinstance(time_type, st.TimestampType):
        time = col
    elif isinstance(time_type, st.TimestampNTZType | st.DateType):
        time = sf.to_utc_timestamp(col.cast("timestamp_ntz"), cmap.tz)
    elif isinstance(time_type, st.StringType):
        time = sf.to_timestamp(col)
    elif isinstance(time_type, st.NumericType):
        ms = cmap.time_format == "epoch_ms" or (
            cmap.time_format != "epoch_s"
            and (frame.select(sf.max(sf.abs(col))).first()[0] or 0) >= _EPOCH_MS
        )
        time = sf.timestamp_millis(col.cast("long")) if ms else sf.timestamp_seconds(col)
    else:
        raise InputError(f"the time column '{cmap.time}' has type {time_type}, not a time")
    others = [
        sf.col(f"`{c}`")
        for c in names
        if c not in (cmap.user, cmap.event, cmap.time, USER, EVENT, TIME)
    ]
    return frame.select(
        sf.col(f"`{cmap.user}`").cast("string").alias(USER),
        sf.col(f"`{cmap.event}`").cast("string").alias(EVENT),
        time.alias(TIME),
        *others,
    )


def dropped(frame: Any) -> tuple[int, int, int]:
    """Return (rows, rows without a unit, rows without a time) of canonical Spark events."""
    from pyspark.sql import functions as sf

    row = frame.select(
        sf.count(sf.lit(1)).alias("rows"),
        sf.sum(sf.col(USER).isNull().cast("long")).alias("no_unit"),
        sf.sum((sf.col(USER).isNotNull() & sf.col(TIME).isNull()).cast("long")).alias("no_time"),
    ).first()
    return int(row["rows"] or 0), int(row["no_unit"] or 0), int(row["no_time"] or 0)
