"""Result classes of ``cjkit diagnose`` and ``cjkit journey`` (no I/O, no Polars, no rich).

A finding has a stable JSON shape (issue 13, "Contracts"): ``kind`` (drop, segment, change,
slowdown, correlation, target), ``stage`` ``{id, index}`` (1-based), ``segment``
``{column, value}`` or null, ``event`` or null, ``metric``, ``value``, ``baseline``,
``p_value``, ``impact_units`` and ``statement`` (one plain sentence with the numbers).
``warnings`` is for the CLI to print; it is not part of the JSON document.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from cjkit.report.serial import Document, Serial

KINDS = ("drop", "segment", "change", "slowdown", "correlation", "target")


@dataclass(frozen=True)
class Finding(Serial):
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
    json_keys: ClassVar[tuple[str, ...] | None] = (
        "kind",
        "stage",
        "segment",
        "event",
        "metric",
        "value",
        "baseline",
        "p_value",
        "impact_units",
        "statement",
    )


@dataclass(frozen=True)
class DiagnoseReport(Document):
    """Ranked findings: by the size of ``impact_units`` (units of the last stage), largest first."""

    settings: dict[str, Any]
    findings: list[Finding]
    steps: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    kind: str = "diagnose"
    json_keys: ClassVar[tuple[str, ...] | None] = (
        "settings",
        "steps",
        "findings",
    )

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
class JourneyReport(Document):
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
    json_keys: ClassVar[tuple[str, ...] | None] = (
        "unit",
        "settings",
        "stages",
        "furthest",
        "stopped",
        "events",
    )

    def to_rows(self) -> list[dict[str, Any]]:
        """Return one row per event of the unit."""
        return [dict(e) for e in self.events]
