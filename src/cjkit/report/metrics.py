"""Result dataclasses of ``cjkit metrics`` and ``cjkit check`` (no I/O, no rich).

They follow the report protocol of :mod:`cjkit.report`: ``kind``, ``to_dict()`` with
``schema_version`` (docs/metrics.md, "9. The metrics JSON") and ``to_rows()`` for CSV. ``warnings`` is for the CLI to print;
it is not part of the JSON document.

A metric value is a number, None (a zero denominator or missing data), or — for the money
metrics of a revenue stage that names a ``currency`` property — an object keyed by currency.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cjkit.report.cohorts import RetentionReport
from cjkit.report.core import SCHEMA_VERSION, TimeToConvert, segment_text

FUNNEL_KEYS = ("count", "conversion_from_previous", "conversion_from_start", "drop_off")


@dataclass(frozen=True)
class StageNumbers:
    """One stage's numbers for one group of units: the funnel numbers and the kind's metrics."""

    id: str
    count: int
    conversion_from_previous: float | None
    conversion_from_start: float | None
    drop_off: int
    time_to_convert: TimeToConvert | None
    metrics: dict[str, Any]
    ci: dict[str, dict[str, float] | None] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)

    def value(self, name: str) -> Any:
        """Return a funnel number or a metric by name (KeyError when the stage has none)."""
        if name in FUNNEL_KEYS:
            return getattr(self, name)
        return self.metrics[name]

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "id": self.id,
            "count": self.count,
            "conversion_from_previous": self.conversion_from_previous,
            "conversion_from_start": self.conversion_from_start,
            "drop_off": self.drop_off,
            "time_to_convert": self.time_to_convert.to_dict() if self.time_to_convert else None,
            "metrics": self.metrics,
            "ci": self.ci,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class StageResult:
    """One stage of the model: what it is, its numbers over the population, and its tables."""

    index: int
    name: str
    kind: str
    description: str
    questions: list[str]
    events: list[str]
    numbers: StageNumbers
    tables: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    retention: RetentionReport | None = None

    @property
    def id(self) -> str:
        """Return the stage id."""
        return self.numbers.id

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form (name, kind, metrics, plus index, events, ci, detail, tables, notes)."""
        numbers = self.numbers.to_dict()
        return {
            "id": self.id,
            "index": self.index,
            "name": self.name,
            "kind": self.kind,
            "description": self.description,
            "events": self.events,
            **{k: v for k, v in numbers.items() if k != "id"},
            "tables": self.tables,
            "notes": self.notes,
        }


@dataclass(frozen=True)
class BreakdownGroup:
    """Every stage's numbers for the units with one value of the breakdown property."""

    value: Any
    units: int
    stages: list[StageNumbers]

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "value": self.value,
            "units": self.units,
            "stages": [s.to_dict() for s in self.stages],
        }


@dataclass(frozen=True)
class Breakdown:
    """The report split by one property (each unit's value on its first first-stage event)."""

    by: str
    groups: list[BreakdownGroup]

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {"by": self.by, "groups": [g.to_dict() for g in self.groups]}


@dataclass(frozen=True)
class CheckResult:
    """One target of a map, evaluated: the actual value, the bounds and the outcome.

    ``status`` is ``pass``, ``fail``, or ``skip`` (a regression bound without a baseline value).
    """

    metric: str
    severity: str
    line: int
    actual: float | None
    status: str
    message: str
    min: float | None = None
    max: float | None = None
    max_drop: float | None = None
    max_drop_pct: float | None = None
    baseline: float | None = None

    @property
    def failed(self) -> bool:
        """Return True when the target failed."""
        return self.status == "fail"

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "metric": self.metric,
            "severity": self.severity,
            "line": self.line,
            "actual": self.actual,
            "min": self.min,
            "max": self.max,
            "max_drop": self.max_drop,
            "max_drop_pct": self.max_drop_pct,
            "baseline": self.baseline,
            "status": self.status,
            "message": self.message,
        }


@dataclass(frozen=True)
class MetricsReport:
    """The per-stage report of a model: funnel numbers and kind metrics, breakdowns, checks."""

    model: dict[str, Any]
    settings: dict[str, Any]
    source: dict[str, Any]
    population: dict[str, Any]
    stages: list[StageResult]
    breakdowns: list[Breakdown] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    kind: str = "metrics"
    # Insight additions (``compare``: cjkit.api.compare), merged into the JSON.
    extra: dict[str, Any] = field(default_factory=dict)

    def stage(self, stage_id: str) -> StageResult | None:
        """Return the stage with this id, or None."""
        return next((s for s in self.stages if s.id == stage_id), None)

    def retention(self) -> dict[str, Any] | None:
        """Return the cohort report of the model's first retention stage, with its stage id."""
        for s in self.stages:
            if s.retention is not None:
                doc = s.retention.to_dict()
                doc.pop("schema_version", None)
                doc.pop("kind", None)
                return {"stage": s.id, **doc}
        return None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON document (``schemas/metrics.schema.json`` describes it)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "kind": self.kind,
            "model": self.model,
            "settings": self.settings,
            "source": self.source,
            "population": self.population,
            "stages": [s.to_dict() for s in self.stages],
            "retention": self.retention(),
            "breakdowns": [b.to_dict() for b in self.breakdowns],
            "checks": [c.to_dict() for c in self.checks],
            **self.extra,
        }

    def to_rows(self) -> list[dict[str, Any]]:
        """Return one row per (breakdown, segment, stage, metric, currency): a long, tidy table."""
        rows: list[dict[str, Any]] = []
        for s in self.stages:
            rows.extend(_metric_rows("", "(all)", s, s.numbers))
        for b in self.breakdowns:
            for g in b.groups:
                for s, numbers in zip(self.stages, g.stages, strict=True):
                    rows.extend(_metric_rows(b.by, segment_text(g.value), s, numbers))
        return rows


def _metric_rows(
    by: str, segment: str, stage: StageResult, n: StageNumbers
) -> list[dict[str, Any]]:
    base = {"by": by, "segment": segment, "stage": stage.id, "kind": stage.kind}
    ttc = n.time_to_convert
    values: list[tuple[str, Any]] = [
        ("count", n.count),
        ("conversion_from_previous", n.conversion_from_previous),
        ("conversion_from_start", n.conversion_from_start),
        ("drop_off", n.drop_off),
        ("mean_time_to_convert_s", ttc.mean_s if ttc else None),
        ("p90_time_to_convert_s", ttc.p90_s if ttc else None),
        *n.metrics.items(),
    ]
    rows = []
    for name, value in values:
        if isinstance(value, dict):
            for currency, v in value.items():
                rows.append(
                    {
                        **base,
                        "metric": name,
                        "currency": currency,
                        "value": v,
                        "ci_low": None,
                        "ci_high": None,
                    }
                )
            continue
        ci = n.ci.get(name)
        rows.append(
            {
                **base,
                "metric": name,
                "currency": None,
                "value": value,
                "ci_low": ci["low"] if ci else None,
                "ci_high": ci["high"] if ci else None,
            }
        )
    return rows


@dataclass(frozen=True)
class CheckReport:
    """The targets of a map evaluated on the events (and against a baseline run)."""

    model: dict[str, Any]
    map_file: str
    baseline: str | None
    source: dict[str, Any]
    checks: list[CheckResult]
    strict: bool = False
    warnings: list[str] = field(default_factory=list)
    kind: str = "check"

    @property
    def failed_errors(self) -> int:
        """Return the number of failed error-severity targets."""
        return sum(1 for c in self.checks if c.failed and c.severity == "error")

    @property
    def failed_warnings(self) -> int:
        """Return the number of failed warn-severity targets."""
        return sum(1 for c in self.checks if c.failed and c.severity != "error")

    @property
    def ok(self) -> bool:
        """Return True when the gate passes: no failed error (nor, with strict, warn) target."""
        return self.failed_errors == 0 and (not self.strict or self.failed_warnings == 0)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON document."""
        return {
            "schema_version": SCHEMA_VERSION,
            "kind": self.kind,
            "model": self.model,
            "map": self.map_file,
            "baseline": self.baseline,
            "source": self.source,
            "strict": self.strict,
            "ok": self.ok,
            "summary": {
                "targets": len(self.checks),
                "passed": sum(1 for c in self.checks if c.status == "pass"),
                "failed_errors": self.failed_errors,
                "failed_warnings": self.failed_warnings,
                "skipped": sum(1 for c in self.checks if c.status == "skip"),
            },
            "checks": [c.to_dict() for c in self.checks],
        }

    def to_rows(self) -> list[dict[str, Any]]:
        """Return one row per target."""
        return [c.to_dict() for c in self.checks]
