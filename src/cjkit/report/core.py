"""Result dataclasses (no I/O, no rich). Each report gives JSON (``to_dict``) and tidy rows.

Every report has a ``kind`` (``funnel``, ``retention``, ``metrics``, …), a ``to_dict()`` that
follows its schema in ``cjkit/report/schemas/`` and carries ``schema_version``, and ``to_rows()``: a tidy table (one row per
step, segment or period) for CSV. Renderers in ``cjkit.render`` draw them for people.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from cjkit.report.serial import OMIT, Document, Serial, plain


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
class TimeToConvert(Serial):
    """Seconds from the previous step, over the units that reached the step."""

    mean_s: float | None
    median_s: float | None
    p90_s: float | None


@dataclass(frozen=True)
class FunnelStep(Serial):
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
    json_merged: ClassVar[str | None] = "extra"


@dataclass(frozen=True)
class FunnelGroup(Serial):
    """The funnel of one breakdown value (a tuple when breaking down by several properties)."""

    value: Any
    steps: list[FunnelStep]


@dataclass(frozen=True)
class FunnelReport(Document):
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
    json_keys: ClassVar[tuple[str, ...] | None] = (
        "settings",
        "source",
        "excluded_units",
        "steps",
        "breakdown",
    )
    json_merged: ClassVar[str | None] = "extra"

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

    def _json_breakdown(self) -> dict[str, Any] | None:
        return {"by": self.by, "groups": plain(self.groups)} if self.by else None


def _segment_text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return " / ".join("(none)" if v is None else str(v) for v in value)
    return "(none)" if value is None else str(value)


def segment_text(value: Any) -> str:
    """Return a breakdown value as display text (``(none)`` for null, ``a / b`` for several)."""
    return _segment_text(value)


@dataclass(frozen=True)
class InspectReport(Document):
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
    json_keys: ClassVar[tuple[str, ...] | None] = (
        "files",
        "rows",
        "units",
        "start",
        "end",
        "dropped_rows",
        "events",
        "columns",
        "preset",
        "suggested_preset",
        "nested",
        "identity",
    )

    def to_rows(self) -> list[dict[str, Any]]:
        """Return one row per event name."""
        return [dict(e) for e in self.events]

    # Only what applies, so the profile of a flat file is unchanged.
    def _json_preset(self) -> Any:
        return self.preset if self.preset or self.suggested_preset else OMIT

    def _json_suggested_preset(self) -> Any:
        return self.suggested_preset if self.preset or self.suggested_preset else OMIT

    def _json_nested(self) -> Any:
        return self.nested or OMIT

    def _json_identity(self) -> Any:
        return OMIT if self.identity is None else self.identity


@dataclass(frozen=True)
class ValidateReport(Document):
    """Validation results of one or more map files."""

    files: list[dict[str, Any]]
    kind: str = "validate"
    json_keys: ClassVar[tuple[str, ...] | None] = ("ok", "files")

    @property
    def ok(self) -> bool:
        """Return True when no file has an error-severity problem."""
        return all(p["severity"] != "error" for f in self.files for p in f["problems"]) and all(
            f["valid"] for f in self.files
        )

    def to_rows(self) -> list[dict[str, Any]]:
        """Return one row per problem."""
        return [p for f in self.files for p in f["problems"]]


@dataclass(frozen=True)
class ModelsReport(Document):
    """The built-in models: id, name and stage chain."""

    models: list[dict[str, Any]]
    kind: str = "models"

    def to_rows(self) -> list[dict[str, Any]]:
        """Return one row per model."""
        return [
            {"id": m["id"], "name": m["name"], "stages": " → ".join(m["stages"])}
            for m in self.models
        ]


@dataclass(frozen=True)
class ModelReport(Document):
    """One model in full: its stages with descriptions, questions, touchpoints and metrics."""

    model: dict[str, Any]
    kind: str = "model"

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
