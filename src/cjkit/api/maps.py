"""Models and maps: the built-in models, one model in full, and map validation (schema,
semantics and, with data, the columns and event names).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from cjkit.api.read import ReadOptions, collect_checked
from cjkit.engine.matchers import parse_entries
from cjkit.errors import did_you_mean
from cjkit.io import sources
from cjkit.maps import loader
from cjkit.report.core import ModelReport, ModelsReport, ValidateReport


def models_list() -> ModelsReport:
    """Return the built-in models with their stage chains."""
    out = []
    for name in loader.builtin_names():
        m = loader.load(name).map
        out.append(
            {
                "id": m.id,
                "name": m.name,
                "description": m.description,
                "stages": [s.name for s in m.stages],
            }
        )
    return ModelsReport(out)


def model_show(ref: str) -> ModelReport:
    """Return one model (built-in name or map file) in full."""
    m = loader.load(ref).map
    data = m.model_dump(mode="json", exclude_defaults=False)
    for stage, raw in zip(m.stages, data["stages"], strict=True):
        raw["event_names"] = stage.event_names()
        raw["metrics"] = list(stage.metrics())
    return ModelReport(data)


def validate(
    refs: Sequence[str], data: Sequence[str] = (), read: ReadOptions | None = None
) -> ValidateReport:
    """Return the problems of each map; with ``data``, also check columns and event names."""
    files: list[dict[str, Any]] = []
    for ref in refs:
        loaded, problems = loader.check(ref)
        entry: dict[str, Any] = {
            "file": loaded.display if loaded else str(ref),
            "valid": loaded is not None,
            "problems": [p.as_dict() for p in problems],
        }
        if loaded is not None and data:
            entry["problems"].extend(_data_problems(loaded, data, read or ReadOptions()))
            entry["valid"] = not any(p["severity"] == "error" for p in entry["problems"])
        files.append(entry)
    return ValidateReport(files)


def _data_problems(
    loaded: loader.LoadedMap, data: Sequence[str], read: ReadOptions
) -> list[dict[str, Any]]:
    model = loaded.map
    events = sources.read(data, read.column_map(model))
    problems: list[dict[str, Any]] = []

    def where(loc: tuple[str | int, ...]) -> dict[str, Any]:
        file, line, col = loaded.locate(loc)
        return {"file": file, "line": line, "col": col}

    # Each property the map names, with the key path that names it (for its line and column).
    wanted: list[tuple[str, str, tuple[str | int, ...]]] = [
        (s, "segments", ("segments", j)) for j, s in enumerate(model.segments)
    ]
    for i, stage in enumerate(model.stages):
        for opt in PROPERTY_OPTIONS:
            value = getattr(stage, opt)
            if value:
                wanted.append((value, f"stages.{stage.id}.{opt}", ("stages", i, opt)))
        for j, entry in enumerate(stage.events):
            for m in parse_entries([entry]):
                wanted.extend(
                    (prop, f"stages.{stage.id}.events", ("stages", i, "events", j, "where", prop))
                    for prop in m.where
                )
    for column, key, loc in wanted:
        if column not in events.columns:
            hint = did_you_mean(column, events.properties)
            msg = f"no column '{column}' in the data (columns: {', '.join(events.properties)})"
            problems.append(
                {
                    **where(loc),
                    "key": key,
                    "severity": "error",
                    "message": msg + (f"; {hint}" if hint else ""),
                }
            )
    names = sorted({n for s in model.stages for n in s.event_names()})
    counts = collect_checked(
        events,
        events.clean()
        .filter(pl.col("event").is_in(names))
        .group_by("event")
        .agg(pl.len().alias("n")),
    )
    seen = dict(zip(counts["event"].to_list(), counts["n"].to_list(), strict=True))
    for i, stage in enumerate(model.stages):
        for name in stage.event_names():
            if not seen.get(name):
                hint = did_you_mean(name, list(seen) or names)
                problems.append(
                    {
                        **where(("stages", i, "events", _entry_of(stage.events, name))),
                        "key": f"stages.{stage.id}.events",
                        "severity": "warn",
                        "message": f"event '{name}' never occurs in the data"
                        + (f"; {hint}" if hint else ""),
                    }
                )
    return problems


# The stage options that name a property column (validate --data checks each exists).
PROPERTY_OPTIONS = (
    "channel",
    "amount",
    "currency",
    "order_id",
    "referrer",
    "score",
    "csat",
    "ces",
    "touchpoint",
)


def _entry_of(entries: Sequence[object], name: str) -> int:
    """Return the index of the first event entry that names ``name`` ("a|b" names a and b)."""
    for j, entry in enumerate(entries):
        parts = entry.split("|") if isinstance(entry, str) else [getattr(entry, "name", "")]
        if name in (p.strip() for p in parts):
            return j
    return 0
