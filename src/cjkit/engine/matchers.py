"""Turn declarative event matchers (names, OR-groups, property filters) into Polars predicates."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from cjkit.canonical import EVENT
from cjkit.errors import UsageError


@dataclass(frozen=True)
class Matcher:
    """An event name plus property filters ``{property: value | [values] | {op: value}}``."""

    name: str
    where: dict[str, Any] = field(default_factory=dict)

    def properties(self) -> list[str]:
        """Return the property columns this matcher reads."""
        return list(self.where)


def parse_entry(entry: object) -> list[Matcher]:
    """Return the matchers of one stage ``events`` entry: ``"a|b"``, a name, or a matcher object."""
    if isinstance(entry, str):
        return [Matcher(part.strip()) for part in entry.split("|") if part.strip()]
    name = getattr(entry, "name", None)
    where = getattr(entry, "where", None)
    if isinstance(name, str):
        return [Matcher(name, dict(where or {}))]
    msg = f"can't read event entry {entry!r}"
    raise UsageError(msg)


def parse_entries(entries: Iterable[object]) -> list[Matcher]:
    """Return the matchers of a list of entries (an OR over all of them)."""
    out: list[Matcher] = []
    for entry in entries:
        out.extend(parse_entry(entry))
    return out


def predicate(matchers: Sequence[Matcher]) -> pl.Expr:
    """Return an expression true where a row matches any of ``matchers``."""
    plain = sorted({m.name for m in matchers if not m.where})
    parts: list[pl.Expr] = []
    if plain:
        parts.append(pl.col(EVENT).is_in(plain))
    for m in matchers:
        if m.where:
            expr = pl.col(EVENT) == m.name
            for prop, value in m.where.items():
                expr = expr & _filter(prop, value)
            parts.append(expr)
    if not parts:
        return pl.lit(value=False)
    out = parts[0]
    for part in parts[1:]:
        out = out | part
    return out.fill_null(value=False)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _numeric(col: pl.Expr, value: Any) -> pl.Expr:
    # A number compares with the column as a number: a CSV column that is empty in one file is
    # read as text, and "12" in a text column should still equal 12.
    values = value if isinstance(value, list) else [value]
    if (
        values
        and all(_is_number(v) or v is None for v in values)
        and any(_is_number(v) for v in values)
    ):
        return col.cast(pl.Float64, strict=False)
    return col


def _filter(prop: str, value: Any) -> pl.Expr:
    col = _numeric(pl.col(prop), value)
    if isinstance(value, list):
        return _is_in(col, value)
    if not isinstance(value, dict):
        return col.is_null() if value is None else col == value
    expr = pl.lit(value=True)
    for op, arg in value.items():
        expr = expr & _op(_numeric(pl.col(prop), arg), str(op), arg)
    return expr


def _is_in(col: pl.Expr, values: list[Any]) -> pl.Expr:
    present = [v for v in values if v is not None]
    expr = col.is_in(present) if present else pl.lit(value=False)
    return expr | col.is_null() if None in values else expr


def _op(col: pl.Expr, op: str, arg: Any) -> pl.Expr:
    if op == "eq":
        return col.is_null() if arg is None else col == arg
    if op == "ne":
        return col.is_not_null() if arg is None else col != arg
    if op in ("in", "not_in"):
        values = arg if isinstance(arg, list) else [arg]
        expr = _is_in(col, values)
        return ~expr if op == "not_in" else expr
    if op == "exists":
        return col.is_not_null() if arg else col.is_null()
    if op == "contains":
        return col.cast(pl.String).str.contains(str(arg), literal=True)
    compare = {"gt": col.__gt__, "gte": col.__ge__, "lt": col.__lt__, "lte": col.__le__}
    if op in compare:
        return compare[op](arg)
    msg = f"unknown filter operator '{op}'"
    raise UsageError(msg)


def _split_alternatives(text: str) -> list[str]:
    """Return the ``|``-separated parts of ``text``; ``|`` inside double quotes is literal."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == "|" and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def parse_cli_step(text: str) -> list[Matcher]:
    """Return the matchers of a ``--step`` value: ``name``, ``a|b``, or ``name[prop=value]``.

    A bracketed filter takes ``prop=value`` pairs separated by commas, with ``!=``, ``>=``,
    ``<=``, ``>`` and ``<`` also accepted; values that look like numbers compare as numbers.
    A name in double quotes is taken as written, ``[``, ``]`` and ``|`` included
    (``"[Amplitude] Page Viewed"``, ``"a|b"[plan=pro]``).
    """
    out: list[Matcher] = []
    for part in (p.strip() for p in _split_alternatives(text)):
        if not part:
            continue
        if part.startswith('"'):
            end = part.find('"', 1)
            if end < 1:
                msg = f"can't read step {text!r}: a quoted event name needs its closing quote"
                raise UsageError(msg)
            name, rest = part[1:end], part[end + 1 :].strip()
            if rest and not (rest.startswith("[") and rest.endswith("]")):
                msg = f'can\'t read step {text!r}: expected "name" or "name"[prop=value,...]'
                raise UsageError(msg)
            out.append(Matcher(name, _cli_filters(rest[1:-1], text) if rest else {}))
        elif "[" in part:
            if not part.endswith("]"):
                msg = f"can't read step {text!r}: expected name[prop=value,...]"
                raise UsageError(msg)
            name, _, inner = part[:-1].partition("[")
            out.append(Matcher(name.strip(), _cli_filters(inner, text)))
        else:
            out.append(Matcher(part))
    if not out:
        msg = f"empty step {text!r}"
        raise UsageError(msg)
    return out


def _cli_filters(inner: str, text: str) -> dict[str, Any]:
    where: dict[str, Any] = {}
    for clause in (c.strip() for c in inner.split(",")):
        for token, op in (
            ("!=", "ne"),
            (">=", "gte"),
            ("<=", "lte"),
            ("=", "eq"),
            (">", "gt"),
            ("<", "lt"),
        ):
            if token in clause:
                prop, _, raw = clause.partition(token)
                where.setdefault(prop.strip(), {})[op] = _number_or_text(raw.strip())
                break
        else:
            msg = f"can't read filter {clause!r} in step {text!r}: expected prop=value"
            raise UsageError(msg)
    return where


def _number_or_text(raw: str) -> Any:
    for cast in (int, float):
        try:
            return cast(raw)
        except ValueError:
            continue
    return raw
