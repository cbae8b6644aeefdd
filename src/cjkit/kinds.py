"""The stage-kind registry: each kind declared once, as data (no Polars, no rich).

A kind says which stage options it reads and which metrics it reports, each with a label and
a unit. Map validation (:mod:`cjkit.maps.schema`), target checking (``api.metrics.lookup``),
rendering (labels, number formats, the breakdown headline) and the docs test read this table;
the engine finds the kind's code as ``cjkit.engine.metrics.kinds.<name>`` (its ``ENGINE``).
A new kind is one :func:`register` call here (or in a plugin module) and one engine module.

A kind's own stage keys: ``options`` names the keys it shares with :class:`cjkit.maps.schema.Stage`
(declared there, for the built-in kinds), and ``options_model`` is a pydantic model of keys only
this kind reads. A stage of the kind may set that model's keys like any other key; the stage
keeps them validated in ``Stage.kind_options`` (``stage.option(name)``), with the same
``FILE:LINE:COL`` errors, so a new kind with new keys needs no change to the schema.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from pydantic import BaseModel

Unit = Literal["rate", "count", "money", "seconds", "number", "points"]
UNITS: tuple[str, ...] = ("rate", "count", "money", "seconds", "number", "points")


@dataclass(frozen=True)
class Metric:
    """One reported metric: its JSON name, display label and unit.

    Units: ``rate`` a share in [0, 1] (shown in %), ``count`` a whole number, ``money`` an
    amount (two decimals; per currency when the stage has one), ``seconds`` a duration,
    ``number`` any other number, ``points`` a signed score such as NPS (−100..100).
    """

    name: str
    label: str
    unit: Unit


@dataclass(frozen=True)
class KindSpec:
    """A stage kind: its options (Stage keys only it may set), its metrics, and the metric a
    breakdown table shows for it (``headline``: column label, metric name)."""

    name: str
    options: tuple[str, ...] = ()
    metrics: tuple[Metric, ...] = ()
    headline: tuple[str, str] | None = None
    # The keys only this kind reads (a pydantic model; None: it has none): see the module doc.
    options_model: type[BaseModel] | None = None

    def metric_names(self) -> tuple[str, ...]:
        """Return the names of the kind's metrics, in report order."""
        return tuple(m.name for m in self.metrics)


# Every stage has the funnel numbers, whatever its kind.
FUNNEL: tuple[Metric, ...] = (
    Metric("count", "units", "count"),
    Metric("conversion_from_previous", "from previous", "rate"),
    Metric("conversion_from_start", "from start", "rate"),
    Metric("drop_off", "drop-off", "count"),
    Metric("median_time_to_convert_s", "median time to convert", "seconds"),
)

# Retention stages also report period_1 .. period_N (the share back k periods later).
PERIOD_METRIC = re.compile(r"^period_(\d+)$")

REGISTRY: dict[str, KindSpec] = {}


def register(spec: KindSpec) -> KindSpec:
    """Add (or replace) a kind in the registry and return it; raise ValueError for a unit that
    isn't one of :data:`UNITS` or a metric name used twice."""
    names = spec.metric_names()
    if len(set(names)) != len(names):
        raise ValueError(f"kind {spec.name}: a metric name is declared twice: {names}")
    for m in spec.metrics:
        if m.unit not in UNITS:
            raise ValueError(f"kind {spec.name}: metric {m.name} has unknown unit {m.unit!r}")
    REGISTRY[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    """Remove a kind (tests that register a dummy kind clean up with this)."""
    REGISTRY.pop(name, None)


def kind_names() -> tuple[str, ...]:
    """Return every registered kind, in registration order."""
    return tuple(REGISTRY)


def metric(name: str) -> Metric | None:
    """Return the declaration of a metric by name, from any kind or the funnel numbers
    (``period_k`` of retention is a rate); None when no kind declares it."""
    for m in FUNNEL:
        if m.name == name:
            return m
    for spec in REGISTRY.values():
        for m in spec.metrics:
            if m.name == name:
                return m
    match = PERIOD_METRIC.match(name)
    if match:
        return Metric(name, f"back after {match.group(1)}", "rate")
    return None


def options() -> dict[str, tuple[str, ...]]:
    """Return, per stage option, the kinds that may set it."""
    out: dict[str, list[str]] = {}
    for spec in REGISTRY.values():
        for option in spec.options:
            out.setdefault(option, []).append(spec.name)
    return {k: tuple(v) for k, v in out.items()}


def model_options() -> dict[str, tuple[str, ...]]:
    """Return, per key of a kind's ``options_model``, the kinds whose model declares it."""
    out: dict[str, list[str]] = {}
    for spec in REGISTRY.values():
        for option in spec.options_model.model_fields if spec.options_model else ():
            out.setdefault(option, []).append(spec.name)
    return {k: tuple(v) for k, v in out.items()}


register(KindSpec("step"))
register(
    KindSpec(
        "acquisition",
        options=("channel",),
        metrics=(
            Metric("new_units", "new units", "count"),
            Metric("cac", "CAC (spend / new units)", "money"),
        ),
        headline=("new", "new_units"),
    )
)
register(
    KindSpec(
        "activation",
        options=("within",),
        metrics=(
            Metric("rate", "activation rate", "rate"),
            Metric("median_time_to_activate_s", "median time to activate", "seconds"),
            Metric("p90_time_to_activate_s", "p90 time to activate", "seconds"),
        ),
        headline=("activated", "rate"),
    )
)
register(
    KindSpec(
        "retention",
        options=("period", "periods"),
        metrics=(
            Metric("churn_rate", "churn per period", "rate"),
            Metric("events_per_active_unit", "events per active unit", "number"),
        ),
        headline=("back k=1", "period_1"),
    )
)
register(
    KindSpec(
        "referral",
        options=("referrer",),
        metrics=(
            Metric("referrer_share", "units that invite", "rate"),
            Metric("invites_per_unit", "invites per unit", "number"),
            Metric("referred_signups", "referred sign-ups", "count"),
            Metric("invite_conversion", "invite conversion", "rate"),
            Metric("k_factor", "k-factor", "number"),
        ),
        headline=("k-factor", "k_factor"),
    )
)
register(
    KindSpec(
        "revenue",
        options=("amount", "currency", "order_id"),
        metrics=(
            Metric("revenue", "revenue", "money"),
            Metric("paying_units", "paying units", "count"),
            Metric("conversion_to_paid", "conversion to paid", "rate"),
            Metric("arpu", "ARPU", "money"),
            Metric("arppu", "ARPPU", "money"),
            Metric("aov", "AOV", "money"),
            Metric("purchase_frequency", "orders per paying unit", "number"),
            Metric("ltv", "LTV (historical)", "money"),
            Metric("ltv_cac", "LTV:CAC", "number"),
        ),
        headline=("paid", "conversion_to_paid"),
    )
)
register(
    KindSpec(
        "satisfaction",
        options=(
            "score",
            "scale",
            "csat",
            "csat_scale",
            "csat_min",
            "ces",
            "ces_scale",
            "ces_min",
            "touchpoint",
        ),
        metrics=(
            Metric("nps", "NPS", "points"),
            Metric("mean_score", "mean score", "number"),
            Metric("responses", "responses", "count"),
            Metric("csat", "CSAT (share satisfied)", "rate"),
            Metric("csat_responses", "CSAT responses", "count"),
            Metric("ces", "CES (mean effort score)", "number"),
            Metric("ces_easy", "CES: share that found it easy", "rate"),
            Metric("ces_responses", "CES responses", "count"),
        ),
        headline=("NPS", "nps"),
    )
)
