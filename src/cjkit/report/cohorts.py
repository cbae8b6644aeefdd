"""Result dataclasses for retention, lifecycle and stickiness (no I/O, no rich).

They follow the report protocol of :mod:`cjkit.report`: a ``kind``, ``to_dict()`` with
``schema_version`` (``schemas/<kind>.schema.json`` describes it), and ``to_rows()`` for CSV.
``warnings`` (rows dropped while reading) is for the CLI to print; it is not part of the JSON
document.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from cjkit.report.core import segment_text
from cjkit.report.serial import Document, Serial, plain


@dataclass(frozen=True)
class RetentionCohort(Serial):
    """One cohort row: ``counts[0]`` is the size, ``counts[k]`` the units back in period k."""

    cohort: str
    index: int
    size: int
    counts: list[int]
    rates: list[float | None]
    complete: list[bool]
    ci: list[dict[str, float] | None]
    observed: int = 0  # cells whose period has begun (the rest lie after the data): for display
    json_hidden: ClassVar[frozenset[str]] = frozenset({"index", "observed"})


@dataclass(frozen=True)
class RetentionCurve(Serial):
    """The weighted average over complete cells: ``rates[k] = counts[k] / sizes[k]``."""

    rates: list[float | None]
    counts: list[int]
    sizes: list[int]
    ci: list[dict[str, float] | None]


@dataclass(frozen=True)
class ChurnPeriod(Serial):
    """Activity in one calendar period, against the period before it."""

    period: str
    complete: bool
    active: int
    new: int
    retained: int
    lost: int
    churn_rate: float | None
    churn_ci: dict[str, float] | None
    events: int
    events_per_active_unit: float | None


@dataclass(frozen=True)
class RetentionGroup(Serial):
    """The cohort table of one breakdown value (a list when breaking down by several)."""

    value: Any
    cohorts: list[RetentionCohort]
    average: RetentionCurve


@dataclass(frozen=True)
class RetentionReport(Document):
    """A cohort retention table, its average curve, churn per period and the breakdown."""

    settings: dict[str, Any]
    cohorts: list[RetentionCohort]
    average: RetentionCurve
    periods: list[ChurnPeriod]
    summary: dict[str, Any]
    by: list[str] = field(default_factory=list)
    groups: list[RetentionGroup] = field(default_factory=list)
    source: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    kind: str = "retention"
    # Insight additions (``compare``: cjkit.api.compare), merged into the JSON.
    extra: dict[str, Any] = field(default_factory=dict)
    json_keys: ClassVar[tuple[str, ...] | None] = (
        "settings",
        "source",
        "cohorts",
        "average",
        "periods",
        "summary",
        "breakdown",
    )
    json_merged: ClassVar[str | None] = "extra"

    def to_rows(self) -> list[dict[str, Any]]:
        """Return one row per (segment, cohort, period k); the average has cohort ``average``."""
        rows: list[dict[str, Any]] = []
        tables = [("(all)", self.cohorts, self.average)]
        tables += [(segment_text(g.value), g.cohorts, g.average) for g in self.groups]
        for segment, cohorts, average in tables:
            for c in cohorts:
                for k, (count, rate, done) in enumerate(
                    zip(c.counts, c.rates, c.complete, strict=True)
                ):
                    rows.append(
                        {
                            "segment": segment,
                            "cohort": c.cohort,
                            "period": k,
                            "size": c.size,
                            "count": count,
                            "rate": rate,
                            "complete": done,
                        }
                    )
            for k, (count, size, rate) in enumerate(
                zip(average.counts, average.sizes, average.rates, strict=True)
            ):
                rows.append(
                    {
                        "segment": segment,
                        "cohort": "average",
                        "period": k,
                        "size": size,
                        "count": count,
                        "rate": rate,
                        "complete": True,
                    }
                )
        return rows

    def _json_breakdown(self) -> dict[str, Any] | None:
        return {"by": self.by, "groups": plain(self.groups)} if self.by else None


@dataclass(frozen=True)
class LifecyclePeriod(Serial):
    """One period's units by state; ``dormant`` is ≤ 0 (units that left)."""

    period: str
    complete: bool
    new: int
    returning: int
    resurrecting: int
    dormant: int

    @property
    def active(self) -> int:
        """Return the units active in the period (new + returning + resurrecting)."""
        return self.new + self.returning + self.resurrecting


@dataclass(frozen=True)
class LifecycleReport(Document):
    """Units per period as new, returning, resurrecting and dormant."""

    settings: dict[str, Any]
    periods: list[LifecyclePeriod]
    source: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    kind: str = "lifecycle"
    json_keys: ClassVar[tuple[str, ...] | None] = (
        "settings",
        "source",
        "periods",
    )

    def to_rows(self) -> list[dict[str, Any]]:
        """Return one row per period (with ``active`` for convenience)."""
        return [{**p.to_dict(), "active": p.active} for p in self.periods]


@dataclass(frozen=True)
class StickinessReport(Document):
    """Units active in exactly n of the range's periods, n = 1..P."""

    settings: dict[str, Any]
    counts: list[dict[str, int]]
    avg_active_periods: float | None
    total_periods: int
    units: int
    source: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    kind: str = "stickiness"
    json_keys: ClassVar[tuple[str, ...] | None] = (
        "settings",
        "source",
        "total_periods",
        "units",
        "counts",
        "avg_active_periods",
    )

    def to_rows(self) -> list[dict[str, Any]]:
        """Return one row per n, with the share of active units."""
        return [
            {
                "periods": c["periods"],
                "units": c["units"],
                "share": c["units"] / self.units if self.units else None,
            }
            for c in self.counts
        ]
