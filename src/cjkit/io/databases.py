"""Events in a database: PostgreSQL (through ADBC) and DuckDB database files, read lazily.

A table (``--table``) or a query (``--query``) becomes a Polars LazyFrame through an IO plugin
(:func:`polars.io.plugins.register_io_source`), so the database is asked only when the plan
runs, and only for what the plan needs: the columns it reads (projection pushdown) and the time
bounds it filters on (predicate pushdown: every ``timestamp <op> datetime`` conjunct of the
pushed predicate becomes a ``WHERE`` clause). The full predicate is applied again to what comes
back, so the SQL bounds only have to be a superset and the result never depends on how much of
the predicate SQL could take.

A time column of a timestamp type is turned into ``Datetime[us, UTC]`` here, inside the plugin,
so the bounds reach it; a naive timestamp is read in ``--tz`` (its SQL bound is widened by a day
on either side, since the zone's offset is not known to SQL). Text or epoch time columns are
left to :mod:`cjkit.io.sources`' parsing, and their time range is not pushed down.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import polars as pl
from polars.io.plugins import register_io_source

from cjkit.errors import InputError, UsageError

_OPS = {"Lt": "<", "LtEq": "<=", "Gt": ">", "GtEq": ">=", "Eq": "="}
_FLIP = {"Lt": "Gt", "LtEq": "GtEq", "Gt": "Lt", "GtEq": "LtEq", "Eq": "Eq"}


class Backend(Protocol):
    """Runs SQL text and returns a Polars DataFrame (raises the driver's own errors)."""

    label: str

    def run(self, sql: str) -> pl.DataFrame:
        """Return the result of ``sql``."""
        ...


def quote(name: str) -> str:
    """Return ``name`` as a double-quoted SQL identifier (PostgreSQL and DuckDB)."""
    return '"' + name.replace('"', '""') + '"'


def table_sql(table: str) -> str:
    """Return ``schema.table`` (or ``table``) quoted part by part."""
    parts = table.split(".")
    if not all(parts) or len(parts) > 3:
        raise UsageError(f"table {table!r}: expected TABLE or SCHEMA.TABLE", option="table")
    return ".".join(quote(p) for p in parts)


@dataclass(frozen=True)
class Relation:
    """What to read: the FROM clause (a quoted table, or a parenthesized query)."""

    source: str
    display: str

    @classmethod
    def of(cls, table: str | None, query: str | None) -> Relation:
        """Return the relation for ``--table`` or ``--query``; raise UsageError for neither/both."""
        if bool(table) == bool(query):
            raise UsageError(
                "a database input needs exactly one of {table} T or {query} SQL",
                options=("table", "query"),
            )
        if table:
            return cls(table_sql(table), f"table {table}")
        text = (query or "").strip().rstrip(";")
        return cls(f"({text}) AS cjkit_query", "query")


def _literal(value: datetime, aware: bool) -> str:
    if aware:
        return f"TIMESTAMPTZ '{value.astimezone(UTC).isoformat(sep=' ')}'"
    return f"TIMESTAMP '{value.replace(tzinfo=None).isoformat(sep=' ')}'"


def _conjuncts(node: Any) -> Iterator[Any]:
    binary = node.get("BinaryExpr") if isinstance(node, dict) else None
    if binary and binary.get("op") in ("And", "LogicalAnd"):
        yield from _conjuncts(binary["left"])
        yield from _conjuncts(binary["right"])
    else:
        yield node


def _datetime_literal(node: Any) -> datetime | None:
    try:
        value, unit, _zone = node["Literal"]["Scalar"]["Datetime"]
    except (KeyError, TypeError, ValueError):
        return None
    per_second = {"Microseconds": 1_000_000, "Milliseconds": 1_000, "Nanoseconds": 1_000_000_000}
    if unit not in per_second:
        return None
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(
        microseconds=int(value) * 1_000_000 // per_second[unit]
    )


def time_bounds(predicate: pl.Expr | None, column: str) -> list[tuple[str, datetime]]:
    """Return the ``(operator, UTC datetime)`` bounds on ``column`` that ``predicate`` implies.

    Only top-level AND-ed comparisons of the column with a datetime literal count; anything
    else is ignored (it is still applied to the fetched rows).
    """
    if predicate is None:
        return []
    try:
        tree = json.loads(predicate.meta.serialize(format="json"))
    except (ValueError, pl.exceptions.PolarsError):
        return []
    bounds = []
    for node in _conjuncts(tree):
        binary = node.get("BinaryExpr") if isinstance(node, dict) else None
        if not binary or binary.get("op") not in _OPS:
            continue
        left, right, op = binary["left"], binary["right"], binary["op"]
        if right == {"Column": column}:
            left, right, op = right, left, _FLIP[op]
        value = _datetime_literal(right)
        if left == {"Column": column} and value is not None:
            bounds.append((_OPS[op], value))
    return bounds


def where_clause(bounds: list[tuple[str, datetime]], column: str, aware: bool, tz: str) -> str:
    """Return the SQL ``WHERE`` for ``bounds`` on the source's time column (or '')."""
    parts = []
    for op, value in bounds:
        if aware:
            parts.append(f"{quote(column)} {op} {_literal(value, aware=True)}")
            continue
        # A naive column holds local times: widen by a day, the exact filter runs in Polars.
        local = value.astimezone(ZoneInfo(tz))
        if op in ("<", "<="):
            parts.append(f"{quote(column)} <= {_literal(local + timedelta(days=1), aware=False)}")
        elif op in (">", ">="):
            parts.append(f"{quote(column)} >= {_literal(local - timedelta(days=1), aware=False)}")
    return (" WHERE " + " AND ".join(parts)) if parts else ""


def _to_utc(frame: pl.DataFrame, column: str, tz: str) -> pl.DataFrame:
    dtype = frame.schema[column]
    if not isinstance(dtype, pl.Datetime):
        return frame
    expr = pl.col(column).dt.cast_time_unit("us")
    if dtype.time_zone:
        expr = expr.dt.convert_time_zone("UTC")
    else:
        expr = expr.dt.replace_time_zone(
            tz, ambiguous="earliest", non_existent="null"
        ).dt.convert_time_zone("UTC")
    return frame.with_columns(expr)


def scan(backend: Backend, relation: Relation, time_col: str, tz: str) -> pl.LazyFrame:
    """Return the relation as a LazyFrame whose scans push columns and time bounds into SQL.

    A timestamp-typed ``time_col`` comes back as ``Datetime[us, UTC]``; other columns keep
    their database types (as the driver maps them to Arrow). Raises the driver's errors for the
    schema query (the caller words them).
    """
    empty = backend.run(f"SELECT * FROM {relation.source} LIMIT 0")
    source_types = dict(empty.schema)
    time_type = source_types.get(time_col)
    timestamp = isinstance(time_type, pl.Datetime)
    aware = timestamp and bool(getattr(time_type, "time_zone", None))
    schema = dict(source_types)
    if timestamp:
        schema[time_col] = pl.Datetime("us", "UTC")

    def source(
        with_columns: list[str] | None,
        predicate: pl.Expr | None,
        n_rows: int | None,
        batch_size: int | None,
    ) -> Iterator[pl.DataFrame]:
        names = with_columns if with_columns is not None else list(schema)
        needed = list(names)
        if predicate is not None:
            needed += [c for c in predicate.meta.root_names() if c not in needed]
        cols = ", ".join(quote(c) for c in needed) or "1 AS cjkit_one"
        where = (
            where_clause(time_bounds(predicate, time_col), time_col, aware, tz) if timestamp else ""
        )
        limit = f" LIMIT {int(n_rows)}" if n_rows is not None and predicate is None else ""
        frame = backend.run(f"SELECT {cols} FROM {relation.source}{where}{limit}")
        if timestamp and time_col in frame.columns:
            frame = _to_utc(frame, time_col, tz)
        if predicate is not None:
            frame = frame.filter(predicate)
            if n_rows is not None:
                frame = frame.head(n_rows)
        yield frame.select(names)

    return register_io_source(source, schema=schema)


# --- the two backends ---------------------------------------------------------------------


class PostgresBackend:
    """PostgreSQL through Polars' ``read_database_uri`` with the ADBC PostgreSQL driver."""

    def __init__(self, uri: str, label: str) -> None:
        self.uri = uri
        self.label = label

    def run(self, sql: str) -> pl.DataFrame:
        """Return the result of ``sql`` (one connection per query: scans are few)."""
        frame = pl.read_database_uri(sql, self.uri, engine="adbc")
        return frame if isinstance(frame, pl.DataFrame) else pl.concat(list(frame))


class DuckDBBackend:
    """A DuckDB database file, opened read-only, with the session time zone pinned to UTC."""

    def __init__(self, path: Path, label: str) -> None:
        self.path = path
        self.label = label

    def run(self, sql: str) -> pl.DataFrame:
        """Return the result of ``sql``."""
        import duckdb

        with duckdb.connect(str(self.path), read_only=True) as con:
            con.execute("SET TimeZone = 'UTC'")
            frame: pl.DataFrame = con.sql(sql).pl()
            return frame


def require_driver(kind: str) -> None:
    """Raise UsageError (one line, exit 2) when the ``db`` extra's driver is not installed."""
    modules = {"postgresql": "adbc_driver_postgresql", "duckdb": "duckdb"}
    try:
        __import__(modules[kind])
        if kind == "postgresql":
            __import__("pyarrow")
    except ImportError:
        raise UsageError(
            f"reading {kind} needs the database extra: pip install 'cjkit[db]'"
        ) from None


def driver_errors(kind: str) -> tuple[type[BaseException], ...]:
    """Return the exception classes a backend raises for a problem with the input."""
    if kind == "duckdb":
        import duckdb

        return (duckdb.Error, pl.exceptions.PolarsError, OSError)
    import adbc_driver_manager

    # A URI libpq can't parse is a ValueError in the driver manager.
    return (adbc_driver_manager.Error, pl.exceptions.PolarsError, OSError, ValueError)


def missing_table(text: str) -> bool:
    """Return whether a driver's error text says the table or relation does not exist."""
    lowered = text.lower()
    return ("does not exist" in lowered and ("relation" in lowered or "table" in lowered)) or (
        "catalog error" in lowered and "table" in lowered
    )


def describe(kind: str, label: str, relation: Relation, text: str) -> InputError:
    """Return the one-line error for a failed schema query (``text`` is already masked)."""
    if missing_table(text) and relation.display != "query":
        return InputError(f"{label}: no {relation.display} in the database ({text})")
    if "connect" in text.lower() or "could not translate host" in text.lower():
        return InputError(f"{label}: can't connect to the database: {text}")
    return InputError(f"{label}: can't read the {relation.display}: {text}")
