"""Dotted paths into nested properties: struct columns, JSON-string columns, key/value lists.

``properties.utm_source`` reads field ``utm_source`` of a struct column ``properties`` (Parquet,
NDJSON), or the key of the JSON object held as text in ``properties`` (PostHog's CSV export).
``event_params.ga_session_id`` reads the value of the record whose ``key`` is ``ga_session_id``
in a list of ``{key, value}`` records (GA4's BigQuery export); GA4's ``value`` struct holds one
of ``string_value``, ``int_value``, ``float_value`` and ``double_value``, and the path yields the
one the sampled rows use.

Nothing is flattened: a path becomes one expression, added to the lazy frame only when a
command names it, so Polars computes only the paths in use.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import polars as pl

SAMPLE_ROWS = 1_000
_VALUE_FIELDS = ("string_value", "int_value", "float_value", "double_value")


@dataclass(frozen=True)
class NestedPath:
    """One path found inside a nested column, with its type and a few sample values."""

    path: str
    dtype: str
    samples: list[str]


def split(name: str, columns: dict[str, pl.DataType]) -> tuple[str, list[str]] | None:
    """Return (column, field path) for a dotted name whose longest prefix is a column."""
    parts = name.split(".")
    for i in range(len(parts) - 1, 0, -1):
        base = ".".join(parts[:i])
        if base in columns:
            return base, parts[i:]
    return None


def _json_path(keys: list[str]) -> str:
    # Bracket notation reads keys with '$', spaces or dots ($anon_distinct_id).
    return "$" + "".join(f"[{json.dumps(k)}]" for k in keys)


def _is_kv(dtype: pl.DataType) -> bool:
    return (
        isinstance(dtype, pl.List)
        and isinstance(dtype.inner, pl.Struct)
        and {f.name for f in dtype.inner.fields} >= {"key", "value"}
    )


def _typed_text(frame: pl.LazyFrame, expr: pl.Expr) -> tuple[pl.Expr, Any]:
    """Return text values cast to the narrowest type every sampled value has."""
    sample = frame.select(expr.alias("v")).drop_nulls().head(SAMPLE_ROWS).collect().to_series()
    for dtype in (pl.Int64(), pl.Float64()):
        if sample.len() and sample.cast(dtype, strict=False).null_count() == 0:
            return expr.cast(dtype, strict=False), dtype
    return expr, pl.String()


def resolve(
    frame: pl.LazyFrame, columns: dict[str, pl.DataType], name: str, *, typed: bool = True
) -> tuple[pl.Expr, Any] | None:
    """Return the expression and type of a dotted path, or None when no column starts it.

    JSON text values are cast to the type the sampled values share, unless ``typed`` is False
    (identifiers stay text: "007" is not 7).
    """
    found = split(name, columns)
    if found is None:
        return None
    base, keys = found
    expr = pl.col(base)
    dtype: Any = columns[base]
    while keys:
        if isinstance(dtype, pl.Struct):
            fields = {f.name: f.dtype for f in dtype.fields}
            if keys[0] not in fields:
                return None
            expr, dtype = expr.struct.field(keys[0]), fields[keys[0]]
            keys = keys[1:]
        elif _is_kv(dtype):
            assert isinstance(dtype, pl.List)
            assert isinstance(dtype.inner, pl.Struct)
            key = keys[0]
            record = expr.list.eval(
                pl.element().filter(pl.element().struct.field("key") == key)
            ).list.first()
            inner = {f.name: f.dtype for f in dtype.inner.fields}
            expr, dtype = record.struct.field("value"), inner["value"]
            keys = keys[1:]
            if not keys and isinstance(dtype, pl.Struct):
                return _kv_value(frame, expr, dtype)
        elif dtype == pl.String:
            text = expr.str.json_path_match(_json_path(keys))
            return _typed_text(frame, text) if typed else (text, pl.String())
        else:
            return None
    return expr, dtype


def _kv_value(frame: pl.LazyFrame, value: pl.Expr, dtype: pl.Struct) -> tuple[pl.Expr, Any]:
    """Return the typed field of a GA4-style value struct that the sampled rows fill."""
    names = [f.name for f in dtype.fields if f.name in _VALUE_FIELDS]
    if not names:
        return value, dtype
    counts = (
        frame.select(value.struct.field(n).drop_nulls().len().alias(n) for n in names)
        .head(SAMPLE_ROWS)
        .collect()
        .row(0, named=True)
    )
    used = [n for n in names if counts[n]]
    types = {f.name: f.dtype for f in dtype.fields}
    if len(used) == 1:
        return value.struct.field(used[0]), types[used[0]]
    if all(types[n].is_numeric() for n in used) and used:
        return pl.coalesce(value.struct.field(n).cast(pl.Float64) for n in used), pl.Float64()
    return pl.coalesce(value.struct.field(n).cast(pl.String) for n in names), pl.String()


# --- discovery for inspect ------------------------------------------------------------------


def _struct_leaves(prefix: str, dtype: Any) -> Iterator[tuple[str, pl.DataType]]:
    if isinstance(dtype, pl.Struct):
        for f in dtype.fields:
            yield from _struct_leaves(f"{prefix}.{f.name}", f.dtype)
    else:
        yield prefix, dtype


def _json_keys(values: list[str]) -> list[str]:
    """Return the dotted key paths of the JSON objects in ``values`` (first seen first)."""
    keys: dict[str, None] = {}

    def walk(prefix: str, obj: object) -> None:
        if isinstance(obj, dict):
            for k, v in obj.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
        elif prefix:
            keys.setdefault(prefix, None)

    for text in values:
        try:
            walk("", json.loads(text))
        except (ValueError, TypeError):
            continue
    return list(keys)


def json_columns(frame: pl.LazyFrame, columns: dict[str, pl.DataType]) -> list[str]:
    """Return the text columns whose sampled values are all JSON objects."""
    text = [c for c, t in columns.items() if t == pl.String and not c.startswith("__")]
    if not text:
        return []
    sample = frame.select(text).head(200).collect()
    out = []
    for c in text:
        values = sample[c].drop_nulls()
        if values.len() and values.str.starts_with("{").all():
            out.append(c)
    return out


def candidates(frame: pl.LazyFrame, columns: dict[str, pl.DataType]) -> list[str]:
    """Return every nested path a sample of ``frame`` shows (for ``inspect``, not for reads)."""
    paths: list[str] = []
    for name, dtype in columns.items():
        if isinstance(dtype, pl.Struct):
            paths.extend(p for p, _ in _struct_leaves(name, dtype))
        elif _is_kv(dtype):
            keys = (
                frame.select(pl.col(name).list.eval(pl.element().struct.field("key")).explode())
                .head(SAMPLE_ROWS * 20)
                .collect()
                .to_series()
                .drop_nulls()
                .unique(maintain_order=True)
                .to_list()
            )
            paths.extend(f"{name}.{k}" for k in keys)
    for name in json_columns(frame, columns):
        values = frame.select(pl.col(name)).drop_nulls().head(SAMPLE_ROWS).collect()
        paths.extend(f"{name}.{k}" for k in _json_keys(values.to_series().to_list()))
    return paths


def describe(
    frame: pl.LazyFrame, columns: dict[str, pl.DataType], limit: int = 100
) -> list[NestedPath]:
    """Return the nested paths of ``frame`` with their types and up to 3 sampled values."""
    found: list[tuple[str, pl.Expr, Any]] = []
    for path in candidates(frame, columns)[:limit]:
        resolved = resolve(frame, columns, path)
        if resolved is not None:
            found.append((path, *resolved))
    if not found:
        return []
    head = frame.head(SAMPLE_ROWS * 20)
    samples = head.select(
        expr.drop_nulls().unique(maintain_order=True).head(3).implode().alias(f"__{i}")
        for i, (_, expr, _) in enumerate(found)
    ).collect()
    return [
        NestedPath(path, _short(dtype), [str(v) for v in samples[f"__{i}"][0].to_list()])
        for i, (path, _, dtype) in enumerate(found)
    ]


def _short(dtype: Any) -> str:
    try:
        return str(dtype._string_repr())
    except (AttributeError, TypeError):
        return str(dtype)
