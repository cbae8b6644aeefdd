"""Folded breakdowns: how many ``--by`` values a table shows, and the line that says so.

A table or Markdown report lists at most :data:`TABLE_TOP` values of a breakdown by default (the
largest by units); the rest are one ``(other)`` row, folded before counting
(:func:`cjkit.engine.insight.segments.fold_values`). JSON, JSON Lines and CSV keep every value
unless ``--top`` is given. No Polars, no rich.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

TABLE_TOP = 50
TABLE_FORMATS = ("table", "markdown")


def top_for(fmt: str, top: int | None) -> int | None:
    """Return how many values of each breakdown to keep: ``top`` when given, else
    :data:`TABLE_TOP` for a table or Markdown and None (every value) for the data formats."""
    if top is not None:
        return top
    return TABLE_TOP if fmt in TABLE_FORMATS else None


def lines(report: Any) -> list[str]:
    """Return one line per folded breakdown of ``report`` (its ``breakdown_other`` extra):
    ``showing 50 of 500,000 channel values; --top N or --format json for all``."""
    extra = getattr(report, "extra", None)
    found = extra.get("breakdown_other") if isinstance(extra, Mapping) else None
    blocks = found if isinstance(found, list) else [found] if found else []
    out = []
    for block in blocks:
        if not isinstance(block, Mapping) or not block.get("folded_segments"):
            continue
        names = " × ".join(str(b) for b in block.get("by") or ()) or "breakdown"
        total = int(block.get("values") or block["top"] + block["folded_segments"])
        out.append(
            f"showing {int(block['top']):,} of {total:,} {names} values, the rest as (other); "
            "--top N or --format json for all"
        )
    return out
