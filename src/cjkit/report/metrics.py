"""Result dataclasses of ``cjkit metrics`` and ``cjkit check`` (no I/O, no rich).

They follow the report protocol of :mod:`cjkit.report`: ``kind``, ``to_dict()`` with
``schema_version`` (docs/metrics.md, "9. The metrics JSON") and ``to_rows()`` for CSV. ``warnings`` is for the CLI to print;
it is not part of the JSON document.

A metric value is a number, None (a zero denominator or missing data), or — for the money
metrics of a revenue stage that names a ``currency`` property — an object keyed by currency.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from cjkit.report.cohorts import RetentionReport
from cjkit.report.core import TimeToConvert, segment_text
from cjkit.report.serial import Document, Serial

FUNNEL_KEYS = ("count", "conversion_from_previous", "conversion_from_start", "drop_off")


@dataclass(frozen=True)
class StageNumbers(Serial):
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


@dataclass(frozen=True)
class StageResult(Serial):
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
        """Return the JSON form: the stage, then its numbers' keys (not nested), tables, notes."""
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
class BreakdownGroup(Serial):
    """Every stage's numbers for the units with one value of the breakdown property."""

    value: Any
    units: int
    stages: list[StageNumbers]


@dataclass(frozen=True)
class Breakdown(Serial):
    """The report split by one property (each unit's value on its first first-stage event)."""

    by: str
    groups: list[BreakdownGroup]


@dataclass(frozen=True)
class CheckResult(Serial):
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
    json_keys: ClassVar[tuple[str, ...] | None] = (
        "metric",
        "severity",
        "line",
        "actual",
        "min",
        "max",
        "max_drop",
        "max_drop_pct",
        "baseline",
        "status",
        "message",
    )

    @property
    def failed(self) -> bool:
        """Return True when the target failed."""
        return self.status == "fail"


@dataclass(frozen=True)
class MetricsReport(Document):
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
    json_keys: ClassVar[tuple[str, ...] | None] = (
        "model",
        "settings",
        "source",
        "population",
        "stages",
        "retention",
        "breakdowns",
        "checks",
    )
    json_merged: ClassVar[str | None] = "extra"

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

    def _json_retention(self) -> dict[str, Any] | None:
        return self.retention()


PREDICTED = "predicted_value"  # a revenue stage's predict: section (docs/metrics.md)
PREDICTED_FIELDS = (
    "units",
    "repeat_buyers",
    "expected_purchases",
    "expected_purchases_per_unit",
    "mean_prob_alive",
    "clv",
    "clv_per_unit",
)


def predicted_values(value: Any) -> list[tuple[str, str | None, Any]]:
    """Return a predicted-value section as flat (name, currency, value) rows: the fields above,
    then the fitted parameters (``bg_nbd.r``, …, ``gamma_gamma.v``)."""
    per_currency = {None: value} if "model" in value else value
    rows: list[tuple[str, str | None, Any]] = []
    for currency, section in per_currency.items():
        rows += [(f"{PREDICTED}.{name}", currency, section.get(name)) for name in PREDICTED_FIELDS]
        for model, params in section.get("params", {}).items():
            rows += [(f"{PREDICTED}.{model}.{k}", currency, v) for k, v in params.items()]
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
        if name == PREDICTED and isinstance(value, dict):
            for metric, currency, v in predicted_values(value):
                rows.append(
                    {
                        **base,
                        "metric": metric,
                        "currency": currency,
                        "value": v,
                        "ci_low": None,
                        "ci_high": None,
                    }
                )
            continue
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
class CheckReport(Document):
    """The targets of a map evaluated on the events (and against a baseline run)."""

    model: dict[str, Any]
    map_file: str
    baseline: str | None
    source: dict[str, Any]
    checks: list[CheckResult]
    strict: bool = False
    warnings: list[str] = field(default_factory=list)
    kind: str = "check"
    json_keys: ClassVar[tuple[str, ...] | None] = (
        "model",
        "map",
        "baseline",
        "source",
        "strict",
        "ok",
        "summary",
        "checks",
    )

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

    def to_rows(self) -> list[dict[str, Any]]:
        """Return one row per target."""
        return [c.to_dict() for c in self.checks]

    def _json_map(self) -> str:
        return self.map_file

    def _json_summary(self) -> dict[str, int]:
        return {
            "targets": len(self.checks),
            "passed": sum(1 for c in self.checks if c.status == "pass"),
            "failed_errors": self.failed_errors,
            "failed_warnings": self.failed_warnings,
            "skipped": sum(1 for c in self.checks if c.status == "skip"),
        }
