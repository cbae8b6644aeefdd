"""The result of ``cjkit report``: every section of the HTML report as data (no I/O, no rich).

:class:`JourneyReport` holds the metrics report and the views computed beside it in the same
run: conversion by entry period, time-to-convert histograms, lifecycle and stickiness, and,
when those analyses are available, diagnose findings and paths. Its ``to_dict()`` is the JSON
of ``cjkit report --format json``; the HTML page shows the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from cjkit.report.cohorts import LifecycleReport, StickinessReport
from cjkit.report.metrics import MetricsReport
from cjkit.report.serial import SCHEMA_VERSION, Document, Serial


@dataclass(frozen=True)
class TrendPeriod(Serial):
    """The units that entered the funnel in one period and how many reached each step."""

    period: str
    complete: bool
    entered: int
    reached: list[int]
    json_keys: ClassVar[tuple[str, ...] | None] = (
        "period",
        "complete",
        "entered",
        "reached",
        "conversion",
    )

    @property
    def conversion(self) -> list[float | None]:
        """Return the share of entrants that reached each step (step 1 is 1.0)."""
        return [r / self.entered if self.entered else None for r in self.reached]


@dataclass(frozen=True)
class HistogramBin(Serial):
    """Units whose time from the previous step lies in ``[lo_s, hi_s)`` (``hi_s`` None: open)."""

    lo_s: int
    hi_s: int | None
    units: int


@dataclass(frozen=True)
class TimeHistogram(Serial):
    """Time to convert into step ``step`` (2..n) from the step before it."""

    step: int
    stage: str
    bins: list[HistogramBin]


@dataclass(frozen=True)
class JourneyReport(Document):
    """Every section of the report; ``meta`` says how and when it was made."""

    metrics: MetricsReport
    trend_period: str
    trends: list[TrendPeriod]
    histograms: list[TimeHistogram]
    lifecycle: LifecycleReport | None
    stickiness: StickinessReport | None
    meta: dict[str, Any]
    labels: dict[str, str] = field(default_factory=dict)
    findings: dict[str, Any] | None = None
    paths: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    omitted: list[str] = field(default_factory=list)  # sections left out, and why
    kind: str = "report"

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON document: the metrics document's fields plus the report's views."""
        doc = self.metrics.to_dict()
        doc.pop("schema_version", None)
        doc.pop("kind", None)
        return {
            "schema_version": SCHEMA_VERSION,
            "kind": self.kind,
            "cjkit_version": self.meta.get("cjkit_version"),
            "generated_at": self.meta.get("generated_at"),
            "command": self.meta.get("command"),
            "lang": self.meta.get("lang"),
            **doc,
            "labels": self.labels,
            "conversion_by_entry_period": {
                "period": self.trend_period,
                "periods": [t.to_dict() for t in self.trends],
            },
            "time_to_convert_bins": [h.to_dict() for h in self.histograms],
            "lifecycle": _inner(self.lifecycle.to_dict()) if self.lifecycle else None,
            "stickiness": _inner(self.stickiness.to_dict()) if self.stickiness else None,
            "findings": self.findings,
            "paths": self.paths,
            "omitted": self.omitted,
        }

    def to_rows(self) -> list[dict[str, Any]]:
        """Return the metrics report's tidy rows (one per segment, stage, metric, currency)."""
        return self.metrics.to_rows()


def _inner(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in ("schema_version", "kind")}
