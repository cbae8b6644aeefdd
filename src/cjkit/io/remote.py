"""Inputs that are not local files: PostgreSQL URIs, DuckDB database files, object-store URIs.

:func:`cjkit.io.sources.read` hands an input here when :func:`is_remote` says so; the result is
the same canonical :class:`~cjkit.io.sources.Events` a file gives (``user_id``, ``event``,
``timestamp`` as ``Datetime[us, UTC]``, every other column a property), lazily, so the engines
run unchanged. Credentials never reach a message or a report: every label and error text goes
through :func:`mask`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import polars as pl

from cjkit.canonical import EVENT, TIME, USER
from cjkit.errors import InputError, UsageError, did_you_mean
from cjkit.io import cloud, databases, sources

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
DUCKDB_SUFFIXES = (".duckdb", ".ddb")
_USERINFO = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*):(?P<secret>[^@\s]*)@", re.I)
_PARAM = re.compile(
    r"(?P<key>password|passwd|pwd|sslpassword|secret|token|aws_secret_access_key|"
    r"secret_access_key|session_token|aws_session_token)=(?P<secret>[^&\s'\"]*)",
    re.I,
)
_SECRET_VARIABLES = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "PGPASSWORD")


def mask(text: str, secrets: Sequence[str] = ()) -> str:
    """Return ``text`` with passwords, secret parameters and known secret values as ``***``.

    ``secrets`` adds values to hide wherever they appear (a driver may echo a password);
    the secret AWS and PostgreSQL environment variables are always hidden too.
    """
    found = [m["secret"] for m in _USERINFO.finditer(text)] + [
        m["secret"] for m in _PARAM.finditer(text)
    ]
    text = _USERINFO.sub(lambda m: f"{m['head']}:***@", text)
    text = _PARAM.sub(lambda m: f"{m['key']}=***", text)
    values = [*secrets, *found, *(os.environ.get(v, "") for v in _SECRET_VARIABLES)]
    for value in sorted({v for v in values if len(v) >= 4}, key=len, reverse=True):
        text = text.replace(value, "***")
    return text


def _secrets(uri: str) -> list[str]:
    return [m["secret"] for m in _USERINFO.finditer(uri)] + [
        m["secret"] for m in _PARAM.finditer(uri)
    ]


def kind(text: str) -> str | None:
    """Return ``postgresql``, ``duckdb`` or ``cloud`` for a remote input, else None."""
    lowered = text.lower()
    if lowered.startswith(POSTGRES_SCHEMES):
        return "postgresql"
    if lowered.startswith("duckdb:") or lowered.endswith(DUCKDB_SUFFIXES):
        return "duckdb"
    if cloud.is_cloud(text):
        return "cloud"
    return None


def is_remote(paths: Sequence[str], cmap: sources.ColumnMap) -> bool:
    """Return whether ``paths`` name a database or object store; raise UsageError when
    ``--table``/``--query`` come with files, or a remote input is mixed with others."""
    kinds = [kind(p) for p in paths]
    remote = [k for k in kinds if k]
    wants_db = bool(cmap.table or cmap.query)
    if not remote:
        if wants_db:
            raise UsageError(
                "{table} and {query} read a database: give a postgresql:// URI or a .duckdb file",
                options=("table", "query"),
            )
        return False
    if len(paths) > 1:
        raise UsageError("a database or object-store input must be the only input")
    if remote[0] == "cloud" and wants_db:
        raise UsageError(
            "{table} and {query} apply to databases, not to object-store paths",
            options=("table", "query"),
        )
    return True


@dataclass
class RemoteEvents(sources.Events):
    """Events from a database or an object store: ``rows`` is what a scan plan can know
    cheaply (Parquet footers; 0 for databases, which then run in one pass)."""

    rows: int = 0

    def estimated_rows(self) -> int:
        """Return the number of rows the source reported (0 when unknown)."""
        return self.rows


def read(paths: Sequence[str], cmap: sources.ColumnMap) -> sources.Events:
    """Return the canonical events of one remote input; raise InputError or UsageError."""
    text = paths[0]
    which = kind(text)
    if which == "cloud":
        label = mask(text)
        frame, rows = cloud.scan(text, label)
        return _canonical(label, frame, cmap, rows)
    table, query = cmap.table, cmap.query
    relation = databases.Relation.of(table, query)
    backend: databases.Backend
    if which == "postgresql":
        databases.require_driver("postgresql")
        label = mask(text)
        backend = databases.PostgresBackend(text, label)
    else:
        databases.require_driver("duckdb")
        path = Path(text.removeprefix("duckdb:"))
        label = str(path)
        if not path.is_file():
            raise InputError(f"{label}: no such database file")
        backend = databases.DuckDBBackend(path, label)
    where = f"{label} ({relation.display})"
    try:
        frame = databases.scan(backend, relation, cmap.time, cmap.tz)
    except databases.driver_errors(which or "") as exc:
        message = mask(sources.first_line(exc), _secrets(text))
        raise databases.describe(which or "", label, relation, message) from None
    return _canonical(where, frame, cmap, 0)


def _canonical(label: str, frame: pl.LazyFrame, cmap: sources.ColumnMap, rows: int) -> RemoteEvents:
    try:
        columns = dict(frame.collect_schema())
    except pl.exceptions.PolarsError as exc:
        raise InputError(
            f"{label}: can't read the events: {mask(sources.first_line(exc))}"
        ) from None
    for role, name in (("user", cmap.user), ("event", cmap.event), ("time", cmap.time)):
        if name not in columns:
            hint = did_you_mean(name, list(columns))
            raise InputError(
                f"{label}: no {role} column '{name}' (columns: {', '.join(columns)})",
                hint=(f"{hint} Set it with --{role}-col." if hint else f"set it with --{role}-col"),
            )
    frame = frame.rename({cmap.user: USER, cmap.event: EVENT, cmap.time: TIME})
    time_type = columns[cmap.time]
    if time_type == sources.TIME_DTYPE:
        # Already canonical: no expression over the time column, so its bounds reach the scan.
        frame = frame.with_columns(pl.lit(None, pl.String).alias(sources.RAW_TIME))
    else:
        # The label stands in for a file path in the parser's messages (only formatted there).
        frame = sources._canonical_time(cast(Path, label), frame, time_type, cmap)
    if columns[cmap.event] != pl.String:
        frame = frame.with_columns(pl.col(EVENT).cast(pl.String))
    schema = dict(frame.collect_schema())
    schema.pop(sources.RAW_TIME, None)
    return RemoteEvents(frame, [label], schema, cmap.tz, per_file=[frame], rows=rows)
