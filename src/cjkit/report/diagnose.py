"""Result classes of ``cjkit diagnose`` and ``cjkit journey`` (no I/O, no Polars, no rich).

A finding has a stable JSON shape (issue 13, "Contracts"): ``kind`` (drop, segment, change,
slowdown, correlation, target), ``stage`` ``{id, index}`` (1-based), ``segment``
``{column, value}`` or null, ``event`` or null, ``metric``, ``value``, ``baseline``,
``p_value``, ``impact_units`` and ``statement`` (one plain sentence with the numbers).
``warnings`` is for the CLI to print; it is not part of the JSON document.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cjkit.report.core import SCHEMA_VERSION

KINDS = ("drop", "segment", "change", "slowdown", "correlation", "target")


@dataclass(frozen=True)
class Finding:
    """One thing that holds the journey back (or helps it), with its numbers."""

    kind: str
    stage: dict[str, Any] | None
    metric: str
    value: float | None
    baseline: float | None
    p_value: float | None
    impact_units: float | None
    statement: str
    segment: dict[str, Any] | None = None
    event: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form (the contract's keys, in its order)."""
        return {
            "kind": self.kind,
            "stage": self.stage,
            "segment": self.segment,
            "event": self.event,
            "metric": self.metric,
            "value": self.value,
            "baseline": self.baseline,
            "p_value": self.p_value,
            "impact_units": self.impact_units,
            "statement": self.statement,
        }


@dataclass(frozen=True)
class DiagnoseReport:
    """Ranked findings: by the size of ``impact_units`` (units of the last stage), largest first."""

    settings: dict[str, Any]
    findings: list[Finding]
    steps: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    kind: str = "diagnose"

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON document."""
        return {
            "schema_version": SCHEMA_VERSION,
            "kind": self.kind,
            "settings": self.settings,
            "steps": self.steps,
            "findings": [f.to_dict() for f in self.findings],
        }

    def to_rows(self) -> list[dict[str, Any]]:
        """Return one row per finding, in rank order."""
        rows = []
        for rank, f in enumerate(self.findings, start=1):
            rows.append(
                {
                    "rank": rank,
                    "kind": f.kind,
                    "stage": f.stage["id"] if f.stage else None,
                    "segment": (
                        f"{f.segment['column']}={f.segment['value']}" if f.segment else None
                    ),
                    "event": f.event,
                    "metric": f.metric,
                    "value": f.value,
                    "baseline": f.baseline,
                    "p_value": f.p_value,
                    "impact_units": f.impact_units,
                    "statement": f.statement,
                }
            )
        return rows


@dataclass(frozen=True)
class JourneyReport:
    """One unit's timeline: each event with the stage it filled, the furthest stage, and why
    the unit stopped there."""

    unit: str
    settings: dict[str, Any]
    events: list[dict[str, Any]]
    stages: list[dict[str, Any]]
    furthest: dict[str, Any] | None
    stopped: dict[str, Any] | None
    warnings: list[str] = field(default_factory=list)
    kind: str = "journey"

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON document."""
        return {
            "schema_version": SCHEMA_VERSION,
            "kind": self.kind,
            "unit": self.unit,
            "settings": self.settings,
            "stages": self.stages,
            "furthest": self.furthest,
            "stopped": self.stopped,
            "events": self.events,
        }

    def to_rows(self) -> list[dict[str, Any]]:
        """Return one row per event of the unit."""
        return [dict(e) for e in self.events]
