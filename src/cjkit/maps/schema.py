"""Pydantic declarations of stage models and journey maps (no I/O, no Polars).

A built-in model and a user's journey map share one schema, ``JourneyMap``: a model is a map
with no ``data``, ``segments`` or ``targets``. Every object forbids unknown keys, so a misspelt
key is an error instead of a silently ignored setting.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)

from cjkit import kinds as kind_registry
from cjkit.canonical import Period, WeekStart
from cjkit.durations import TIME_UNIT_DAYS, parse_duration, parse_span

# Stage kinds are declared once, in cjkit.kinds; ``Kind`` is a kind's name, checked against it.
Kind = str
KINDS: tuple[str, ...] = kind_registry.kind_names()  # the built-in kinds (the registry is live)
Order = Literal["ordered", "strict", "any"]
Anchor = Literal["latest", "first"]
Severity = Literal["error", "warn"]

FUNNEL_METRICS: tuple[str, ...] = tuple(m.name for m in kind_registry.FUNNEL)

# The metrics each built-in kind reports beyond the funnel numbers (from the registry).
KIND_METRICS: dict[str, tuple[str, ...]] = {
    name: spec.metric_names() for name, spec in kind_registry.REGISTRY.items()
}


STAGE_ID = r"^[a-z][a-z0-9_]*$"
Id = Annotated[str, Field(pattern=STAGE_ID, max_length=64)]
MODEL_ID = r"^[a-z0-9][a-z0-9_-]*$"
ModelId = Annotated[str, Field(pattern=MODEL_ID, max_length=64)]
PropertyName = Annotated[str, Field(min_length=1, max_length=200)]
Scalar = str | int | float | bool | None
# A score scale [lowest, highest], e.g. [0, 10] for NPS or [1, 5] for CSAT.
ScoreScale = Annotated[tuple[float, float], Field()]


class Strict(BaseModel):
    """Base for every declaration: unknown keys are errors, objects are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_duration(value: str | None) -> str | None:
    if value is not None:
        parse_duration(value)
    return value


FilterOp = Literal["eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "contains", "exists"]
FILTER_OPS: tuple[str, ...] = (
    "eq",
    "ne",
    "gt",
    "gte",
    "lt",
    "lte",
    "in",
    "not_in",
    "contains",
    "exists",
)
# A property filter value: a scalar (equals), a list (one of), or {op: value}.
FilterValue = Scalar | list[Scalar] | dict[FilterOp, Scalar | list[Scalar]]


class EventMatcher(Strict):
    """One event name, optionally narrowed by property filters (declarative, never eval'd)."""

    name: Annotated[str, Field(min_length=1)]
    where: dict[PropertyName, FilterValue] = Field(default_factory=dict)


# A stage's events: each entry is a name, an OR-group written "a|b", or a matcher.
EventEntry = Annotated[str, Field(min_length=1)] | EventMatcher


class PredictSpec(Strict):
    """A revenue stage's ``predict:`` section: customer value ahead (docs/metrics.md).

    BG/NBD for repeat purchases (with Gamma-Gamma for order value), fitted on the stage's
    purchases as ``cjkit clv`` fits them; ``horizon`` is a span (``12 months``, ``26w``, ``90d``,
    ``1y``) of at least one ``time_unit``; ``discount`` the monthly rate; ``margin`` the share of
    revenue that is value.
    """

    model: Literal["bg_nbd"]
    horizon: Annotated[str, Field(min_length=1)]
    discount: Annotated[float, Field(ge=0, lt=1)] = 0.01
    margin: Annotated[float, Field(gt=0, le=1)] = 1.0
    time_unit: Literal["day", "week", "month"] = "week"

    @model_validator(mode="after")
    def _horizon(self) -> PredictSpec:
        days, _ = parse_span(self.horizon)
        if days < TIME_UNIT_DAYS[self.time_unit]:
            raise ValueError(
                f"horizon: {self.horizon} is shorter than one {self.time_unit} (the time unit)"
            )
        return self


class Stage(Strict):
    """One stage of a journey: what puts a unit in it, and what it reports."""

    id: Id
    name: Annotated[str, Field(min_length=1)]
    description: str = ""
    questions: list[str] = Field(default_factory=list)
    touchpoints: list[str] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)
    kind: Kind = "step"
    events: Annotated[list[EventEntry], Field(min_length=1)]
    first_time: bool = False
    within: str | None = None
    channel: PropertyName | None = None
    period: Period | None = None
    periods: Annotated[int, Field(ge=1, le=520)] | None = None
    amount: PropertyName | None = None
    currency: PropertyName | None = None
    order_id: PropertyName | None = None
    referrer: PropertyName | None = None
    score: PropertyName | None = None
    scale: ScoreScale | None = None
    csat: PropertyName | None = None
    csat_scale: ScoreScale | None = None
    csat_min: float | None = None
    ces: PropertyName | None = None
    ces_scale: ScoreScale | None = None
    ces_min: float | None = None
    touchpoint: PropertyName | None = None
    # Keys only a registered kind's ``options_model`` declares (cjkit.kinds), written as stage
    # keys: collected here and validated by that model (``option()`` reads them).
    kind_options: dict[str, Any] = Field(default_factory=dict, exclude_if=lambda v: not v)
    predict: PredictSpec | None = None

    _duration = field_validator("within")(_check_duration)

    @model_validator(mode="before")
    @classmethod
    def _collect_kind_options(cls, data: Any) -> Any:
        # A key that only a kind's options model declares moves into ``kind_options``.
        if not isinstance(data, dict):
            return data
        owned = kind_registry.model_options()
        moved = {k: v for k, v in data.items() if k in owned and k not in cls.model_fields}
        if not moved:
            return data
        rest = {k: v for k, v in data.items() if k not in moved}
        return {**rest, "kind_options": {**rest.get("kind_options", {}), **moved}}

    @field_validator("kind_options")
    @classmethod
    def _kind_options_fit(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        kind = info.data.get("kind")
        if not value or kind is None:
            return value
        owned = kind_registry.model_options()
        for key in value:
            if kind not in owned.get(key, (kind,)):
                allowed = " or ".join(owned[key])
                raise ValueError(f"'{key}' applies only to a stage of kind {allowed}, not {kind}")
        model = kind_registry.REGISTRY[kind].options_model
        if model is None:
            raise ValueError(f"a stage of kind {kind} has no kind options")
        return dict(model.model_validate(value).model_dump())

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        names = kind_registry.kind_names()
        if value not in names:
            quoted = [f"'{k}'" for k in names]
            raise ValueError(f"expected {', '.join(quoted[:-1])} or {quoted[-1]}")
        return value

    @model_validator(mode="after")
    def _options_fit_kind(self) -> Stage:
        for option, kinds in kind_registry.options().items():
            if getattr(self, option) is not None and self.kind not in kinds:
                allowed = " or ".join(kinds)
                msg = f"'{option}' applies only to a stage of kind {allowed}, not {self.kind}"
                raise ValueError(msg)
        if self.predict is not None and self.kind != "revenue":
            # Not in the kind registry's options: ``models show`` lists those for every kind.
            raise ValueError(f"'predict' applies only to a stage of kind revenue, not {self.kind}")
        for name in ("scale", "csat_scale", "ces_scale"):
            scale = getattr(self, name)
            if scale is not None and not scale[0] < scale[1]:
                raise ValueError(
                    f"'{name}' is [lowest, highest] with lowest < highest, got {scale}"
                )
        return self

    @model_serializer(mode="wrap")
    def _without_unset_predict(self, handler: SerializerFunctionWrapHandler) -> Any:
        # ``models show`` dumps every stage option; ``predict`` appears only when a map sets it,
        # so the built-in models' output is as it was before the option existed.
        data = handler(self)
        if self.predict is None and isinstance(data, dict):
            data.pop("predict", None)
        return data

    def option(self, name: str) -> Any:
        """Return a stage option by name: a Stage key, or one of the kind's ``options_model``
        keys (its default when the map leaves it out; None when the kind has no such key)."""
        if name in type(self).model_fields:
            return getattr(self, name)
        if name in self.kind_options:
            return self.kind_options[name]
        model = kind_registry.REGISTRY[self.kind].options_model
        field = model.model_fields.get(name) if model else None
        return None if field is None else field.get_default(call_default_factory=True)

    def event_names(self) -> list[str]:
        """Return every event name this stage matches, in declaration order, without repeats."""
        names: list[str] = []
        for entry in self.events:
            parts = entry.split("|") if isinstance(entry, str) else [entry.name]
            for part in (p.strip() for p in parts):
                if part and part not in names:
                    names.append(part)
        return names

    def metrics(self) -> tuple[str, ...]:
        """Return every metric name this stage reports: the funnel numbers, then its kind's."""
        extra = kind_registry.REGISTRY[self.kind].metric_names()
        if self.kind == "retention":
            extra = ("period_1", "period_2", "period_3", *extra)
        return FUNNEL_METRICS + extra


class IdentitySpec(Strict):
    """Identity merging: events of an ``anonymous`` id later seen with a ``user`` id count for
    that user (docs/inputs.md)."""

    anonymous: PropertyName
    user: PropertyName


class RevenueSpec(Strict):
    """What revenue counts: rows matching ``exclude`` add nothing; ``refunds`` events subtract
    their amount. ``amount`` names the amount columns (default: the revenue stages' amounts)."""

    exclude: dict[PropertyName, FilterValue] = Field(default_factory=dict)
    refunds: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list)
    amount: list[PropertyName] | None = None


class DataSpec(Strict):
    """How to read the events: column names, time zone and time format, preset, identity."""

    user: PropertyName = "user_id"
    event: PropertyName = "event"
    time: PropertyName = "timestamp"
    timezone: str = "UTC"
    time_format: (
        Literal["auto", "iso", "date", "epoch_s", "epoch_ms", "epoch_us", "epoch_ns"] | str
    ) = "auto"
    preset: Literal["posthog", "mixpanel", "amplitude", "ga4", "segment", "shopify"] | None = None
    identity: IdentitySpec | None = None
    revenue: RevenueSpec | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from cjkit.timerange import zone_problem

        problem = zone_problem(value, "Asia/Ho_Chi_Minh")
        if problem:
            raise ValueError(problem)
        return value


class Exclusion(Strict):
    """An exclusion step: a unit with ``event`` between stages ``between[0]`` and ``[1]``."""

    event: Annotated[str, Field(min_length=1)]
    between: tuple[Id, Id] | None = None


class Settings(Strict):
    """Funnel and period settings."""

    window: str = "14d"
    order: Order = "ordered"
    window_anchor: Anchor = "latest"
    allow_event_reuse: bool = False
    strict_increase: bool = False
    period: Period = "week"
    week_start: WeekStart = "monday"
    exclusions: list[Exclusion] = Field(default_factory=list)

    _duration = field_validator("window")(_check_duration)


class PathCleaning(Strict):
    """A path-cleaning rule: node names matching ``regex`` are rewritten to ``alias``."""

    regex: Annotated[str, Field(min_length=1)]
    alias: str


class PathsSettings(Strict):
    """Settings of ``cjkit paths``: cleaning rules applied in order (PostHog's path cleaning)."""

    cleaning: list[PathCleaning] = Field(default_factory=list)


class SpendSpec(Strict):
    """A spend file (CSV or Parquet) with date, channel and amount columns, for CAC."""

    path: Annotated[str, Field(min_length=1)]
    date: PropertyName = "date"
    channel: PropertyName = "channel"
    amount: PropertyName = "amount"


class Target(Strict):
    """A threshold on one metric (``stage_id.metric``) that ``cjkit check`` evaluates."""

    metric: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")]
    min: float | None = None
    max: float | None = None
    max_drop: Annotated[float, Field(ge=0)] | None = None
    max_drop_pct: Annotated[float, Field(ge=0)] | None = None
    severity: Severity = "error"

    @model_validator(mode="after")
    def _has_a_bound(self) -> Target:
        bounds = (self.min, self.max, self.max_drop, self.max_drop_pct)
        if all(b is None for b in bounds):
            msg = "a target needs at least one of min, max, max_drop or max_drop_pct"
            raise ValueError(msg)
        if self.min is not None and self.max is not None and self.min > self.max:
            msg = f"min ({self.min}) is greater than max ({self.max})"
            raise ValueError(msg)
        return self


class JourneyMap(Strict):
    """A stage model, or a user's journey map (a model plus data, segments, spend and targets)."""

    id: ModelId
    name: Annotated[str, Field(min_length=1)]
    description: str = ""
    source: str = ""
    stages: Annotated[list[Stage], Field(min_length=2)]
    data: DataSpec = Field(default_factory=DataSpec)
    settings: Settings = Field(default_factory=Settings)
    segments: list[PropertyName] = Field(default_factory=list)
    spend: SpendSpec | None = None
    targets: list[Target] = Field(default_factory=list)
    paths: PathsSettings = Field(default_factory=PathsSettings)

    def stage(self, stage_id: str) -> Stage | None:
        """Return the stage with this id, or None."""
        return next((s for s in self.stages if s.id == stage_id), None)

    def stage_ids(self) -> list[str]:
        """Return the stage ids in model order."""
        return [s.id for s in self.stages]


def json_schema() -> dict[str, Any]:
    """Return the JSON Schema of a journey map file (as written, with ``extends``)."""
    schema = JourneyMap.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "cjkit journey map"
    props = schema.setdefault("properties", {})
    props["extends"] = {
        "type": "string",
        "description": "A built-in model id (aarrr, aida, 5a, accsr, tofu-mofu-bofu, coleman-8) "
        "or a relative path to another map. Stages given as a mapping override by id.",
    }
    stages = props["stages"]
    props["stages"] = {
        "anyOf": [
            stages,
            {
                "type": "object",
                "description": "With extends: overrides of the base model's stages, by id.",
                "additionalProperties": {"type": "object"},
            },
        ]
    }
    schema["required"] = []
    return schema
