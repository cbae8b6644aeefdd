"""Result dataclasses (no I/O, no rich). Each report gives JSON (``to_dict``) and tidy rows.

Every report has a ``kind`` (``funnel``, ``retention``, ``metrics``, …), a ``to_dict()`` that
follows its schema in ``cjkit/report/schemas/`` and carries ``schema_version``, and ``to_rows()``: a tidy table (one row per
step, segment or period) for CSV. Renderers in ``cjkit.render`` draw them for people.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

SCHEMA_VERSION = 1


class Report(Protocol):
    """What every renderer can rely on."""

    kind: str

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON document."""
        ...

    def to_rows(self) -> list[dict[str, Any]]:
        """Return a tidy table for CSV: one row per step, segment or period."""
        ...


@dataclass(frozen=True)
class TimeToConvert:
    """Seconds from the previous step, over the units that reached the step."""

    mean_s: float | None
    median_s: float | None
    p90_s: float | None

    def to_dict(self) -> dict[str, float | None]:
        """Return the JSON form."""
        return {"mean_s": self.mean_s, "median_s": self.median_s, "p90_s": self.p90_s}


@dataclass(frozen=True)
class FunnelStep:
    """One step's numbers."""

    index: int
    name: str
    events: list[str]
    count: int
    conversion_from_previous: float | None
    conversion_from_start: float | None
    drop_off: int
    time_to_convert: TimeToConvert | None
    ci: dict[str, dict[str, float] | None]
    # Insight additions (``vs_rest``, ``change``: cjkit.engine.insight), merged into the JSON.
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "index": self.index,
            "name": self.name,
            "events": self.events,
            "count": self.count,
            "conversion_from_previous": self.conversion_from_previous,
            "conversion_from_start": self.conversion_from_start,
            "drop_off": self.drop_off,
            "time_to_convert": self.time_to_convert.to_dict() if self.time_to_convert else None,
            "ci": self.ci,
            **self.extra,
        }


@dataclass(frozen=True)
class FunnelGroup:
    """The funnel of one breakdown value (a tuple when breaking down by several properties)."""

    value: Any
    steps: list[FunnelStep]

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {"value": self.value, "steps": [s.to_dict() for s in self.steps]}


@dataclass(frozen=True)
class FunnelReport:
    """A funnel: the overall steps, and the breakdown groups when ``--by`` was given."""

    settings: dict[str, Any]
    steps: list[FunnelStep]
    by: list[str] = field(default_factory=list)
    groups: list[FunnelGroup] = field(default_factory=list)
    excluded_units: int = 0
    source: dict[str, Any] = field(default_factory=dict)
    kind: str = "funnel"
    # Insight additions (``compare``, ``trend``, ``time_to_convert_histogram``, ``correlation``).
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON document (``schemas/<kind>.schema.json`` describes it)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "kind": self.kind,
            "settings": self.settings,
            "source": self.source,
            "excluded_units": self.excluded_units,
            "steps": [s.to_dict() for s in self.steps],
            "breakdown": (
                {"by": self.by, "groups": [g.to_dict() for g in self.groups]} if self.by else None
            ),
            **self.extra,
        }

    def to_rows(self) -> list[dict[str, Any]]:
        """Return one row per (segment, step); the overall funnel has segment ``(all)``."""
        rows: list[dict[str, Any]] = []
        for value, steps in [("(all)", self.steps), *[(g.value, g.steps) for g in self.groups]]:
            for s in steps:
                ttc = s.time_to_convert
                rows.append(
                    {
                        "segment": _segment_text(value),
                        "step": s.index,
                        "name": s.name,
                        "count": s.count,
                        "conversion_from_previous": s.conversion_from_previous,
                        "conversion_from_start": s.conversion_from_start,
                        "drop_off": s.drop_off,
                        "mean_time_to_convert_s": ttc.mean_s if ttc else None,
                        "median_time_to_convert_s": ttc.median_s if ttc else None,
                        "p90_time_to_convert_s": ttc.p90_s if ttc else None,
                    }
                )
        return rows


def _segment_text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return " / ".join("(none)" if v is None else str(v) for v in value)
    return "(none)" if value is None else str(value)


def segment_text(value: Any) -> str:
    """Return a breakdown value as display text (``(none)`` for null, ``a / b`` for several)."""
    return _segment_text(value)


@dataclass(frozen=True)
class InspectReport:
    """A data profile: rows, units, time span, events and columns."""

    files: list[str]
    rows: int
    units: int
    start: str | None
    end: str | None
    events: list[dict[str, Any]]
    columns: list[dict[str, Any]]
    dropped_rows: int = 0
    kind: str = "inspect"
    # Reading vendor exports (docs/inputs.md): the preset in use or the one the shape suggests,
    # nested paths ({path, dtype, samples}), identity merging ({merged_ids, conflicts}).
    preset: str | None = None
    suggested_preset: str | None = None
    nested: list[dict[str, Any]] = field(default_factory=list)
    identity: dict[str, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON document (``schemas/<kind>.schema.json`` describes it)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "kind": self.kind,
            "files": self.files,
            "rows": self.rows,
            "units": self.units,
            "start": self.start,
            "end": self.end,
            "dropped_rows": self.dropped_rows,
            "events": self.events,
            "columns": self.columns,
            **self._inputs(),
        }

    def _inputs(self) -> dict[str, Any]:
        # Only what applies, so the profile of a flat file is unchanged.
        out: dict[str, Any] = {}
        if self.preset or self.suggested_preset:
            out["preset"] = self.preset
            out["suggested_preset"] = self.suggested_preset
        if self.nested:
            out["nested"] = self.nested
        if self.identity is not None:
            out["identity"] = self.identity
        return out

    def to_rows(self) -> list[dict[str, Any]]:
        """Return one row per event name."""
        return [dict(e) for e in self.events]


@dataclass(frozen=True)
class ValidateReport:
    """Validation results of one or more map files."""

    files: list[dict[str, Any]]
    kind: str = "validate"

    @property
    def ok(self) -> bool:
        """Return True when no file has an error-severity problem."""
        return all(p["severity"] != "error" for f in self.files for p in f["problems"]) and all(
            f["valid"] for f in self.files
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON document."""
        return {
            "schema_version": SCHEMA_VERSION,
            "kind": self.kind,
            "ok": self.ok,
            "files": self.files,
        }

    def to_rows(self) -> list[dict[str, Any]]:
        """Return one row per problem."""
        return [p for f in self.files for p in f["problems"]]


@dataclass(frozen=True)
class ModelsReport:
    """The built-in models: id, name and stage chain."""

    models: list[dict[str, Any]]
    kind: str = "models"

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON document."""
        return {"schema_version": SCHEMA_VERSION, "kind": self.kind, "models": self.models}

    def to_rows(self) -> list[dict[str, Any]]:
        """Return one row per model."""
        return [
            {"id": m["id"], "name": m["name"], "stages": " → ".join(m["stages"])}
            for m in self.models
        ]


@dataclass(frozen=True)
class ModelReport:
    """One model in full: its stages with descriptions, questions, touchpoints and metrics."""

    model: dict[str, Any]
    kind: str = "model"

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON document."""
        return {"schema_version": SCHEMA_VERSION, "kind": self.kind, "model": self.model}

    def to_rows(self) -> list[dict[str, Any]]:
        """Return one row per stage."""
        return [
            {
                "id": s["id"],
                "name": s["name"],
                "kind": s["kind"],
                "events": "|".join(s["event_names"]),
                "metrics": " ".join(s["metrics"]),
                "description": s.get("description", ""),
            }
            for s in self.model["stages"]
        ]
