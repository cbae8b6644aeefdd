"""The CLV report: fitted BG/NBD and Gamma-Gamma parameters, the holdout check, RFM segments,
breakdowns and the top units by CLV. No I/O, no Polars, no rich."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cjkit.report.core import SCHEMA_VERSION

CONVENTIONS = (
    "frequency = purchase days - 1 (repeat purchases; purchases on one day merge); "
    "recency = first to last purchase; T = first purchase to the observation end "
    "(both in the time unit); monetary value = mean of the repeat days' totals, "
    "the first purchase excluded (lifetimes' conventions)"
)


@dataclass(frozen=True)
class HoldoutCheck:
    """Predicted against actual repeat purchases in the holdout, from a calibration fit."""

    calibration_end: str
    observation_end: str
    duration: float
    units: int
    params: dict[str, float]
    predicted: float
    actual: int
    mean_absolute_error: float
    buckets: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        """Return the holdout block of the JSON document."""
        return {
            "calibration_end": self.calibration_end,
            "observation_end": self.observation_end,
            "duration": self.duration,
            "units": self.units,
            "params": {"bg_nbd": self.params},
            "predicted": self.predicted,
            "actual": self.actual,
            "relative_error": (self.predicted - self.actual) / self.actual if self.actual else None,
            "mean_absolute_error": self.mean_absolute_error,
            "by_frequency": self.buckets,
        }


@dataclass(frozen=True)
class ClvReport:
    """Customer value ahead, per unit summarised: what the models say and how well they fit."""

    settings: dict[str, Any]
    source: dict[str, Any]
    params: dict[str, dict[str, float]]
    stderr: dict[str, dict[str, float | None]]
    fit: dict[str, Any]
    totals: dict[str, Any]
    holdout: HoldoutCheck | None
    segments: list[dict[str, Any]]
    breakdowns: list[dict[str, Any]]
    top: list[dict[str, Any]]
    warnings: list[str] = field(default_factory=list)
    conventions: str = CONVENTIONS
    kind: str = "clv"

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON document: settings, params, stderr, holdout, segments, top."""
        return {
            "schema_version": SCHEMA_VERSION,
            "kind": self.kind,
            "settings": self.settings,
            "source": self.source,
            "conventions": self.conventions,
            "params": self.params,
            "stderr": self.stderr,
            "fit": self.fit,
            "totals": self.totals,
            "holdout": None if self.holdout is None else self.holdout.to_dict(),
            "segments": self.segments,
            "breakdowns": self.breakdowns,
            "top": self.top,
            "warnings": self.warnings,
        }

    def to_rows(self) -> list[dict[str, Any]]:
        """Return one row per RFM segment, then one per breakdown value."""
        rows = [{"breakdown": "rfm_segment", **s} for s in self.segments]
        for block in self.breakdowns:
            rows.extend({"breakdown": block["by"], **g} for g in block["groups"])
        return rows
