"""The CLV report: fitted BG/NBD and Gamma-Gamma parameters, the holdout check, RFM segments,
breakdowns and the top units by CLV. No I/O, no Polars, no rich."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from cjkit.report.serial import Document, Serial

CONVENTIONS = (
    "frequency = purchase days - 1 (repeat purchases; purchases on one day merge); "
    "recency = first to last purchase; T = first purchase to the observation end "
    "(both in the time unit); monetary value = mean of the repeat days' totals, "
    "the first purchase excluded (lifetimes' conventions)"
)


@dataclass(frozen=True)
class HoldoutCheck(Serial):
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
    json_keys: ClassVar[tuple[str, ...] | None] = (
        "calibration_end",
        "observation_end",
        "duration",
        "units",
        "params",
        "predicted",
        "actual",
        "relative_error",
        "mean_absolute_error",
        "by_frequency",
    )

    def _json_params(self) -> dict[str, Any]:
        return {"bg_nbd": self.params}

    def _json_relative_error(self) -> float | None:
        return (self.predicted - self.actual) / self.actual if self.actual else None

    def _json_by_frequency(self) -> list[dict[str, Any]]:
        return self.buckets


@dataclass(frozen=True)
class ClvReport(Document):
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
    json_keys: ClassVar[tuple[str, ...] | None] = (
        "settings",
        "source",
        "conventions",
        "params",
        "stderr",
        "fit",
        "totals",
        "holdout",
        "segments",
        "breakdowns",
        "top",
        "warnings",
    )

    def to_rows(self) -> list[dict[str, Any]]:
        """Return one row per RFM segment, then one per breakdown value."""
        rows = [{"breakdown": "rfm_segment", **s} for s in self.segments]
        for block in self.breakdowns:
            rows.extend({"breakdown": block["by"], **g} for g in block["groups"])
        return rows
