"""Phase 1 of a funnel: reduce events to one row per unit (its furthest step and step times).

The exact rules are in ``docs/metrics.md`` ("Funnel metrics"); ``tests/funnel_reference.py`` states them as
a per-unit state machine and the differential tests hold this module to it. In short:

* **Sequence.** A unit's events are sorted by time; at equal times by the first step the event
  can fill, then by the set of steps it can fill, its exclusion flags and its breakdown values,
  so that no result depends on row or file order. One event fills at most one step: a chain's
  events have strictly increasing positions in that sequence.
* ``ordered``: every step-1 event inside ``[since, until]`` starts an attempt; for each later
  step a forward ``join_asof`` finds the attempt's next event that can fill it, kept when
  ``t_k − start ≤ W``. Attempts that take the same event for the same step merge and keep the
  latest start: PostHog keeps one path per step and a newer start overwrites it (ClickHouse's
  ``windowFunnel`` re-anchors the same way). ``--window-anchor first`` keeps only the unit's
  first step-1 event in range (Mixpanel's uniques).
* ``allow_event_reuse`` relaxes the order to ``t_k ≥ t_{k-1}`` so one event can fill several
  steps (ClickHouse's default); ``strict_increase`` requires ``t_k > t_{k-1}``.
* ``strict``: as ordered, but an event between two steps that does not match the attempt's
  current step ends it — unless it shares its timestamp with an event of other step flags
  (PostHog does not clear paths inside such a group).
* ``any``: an attempt starts at any step event in range; each event fills the first step it
  matches; the attempt holds the first event of each step inside ``[start, start + W]``, and
  ``t_k`` is the k-th of those times (PostHog unordered).
* **Exclusions** follow PostHog: an exclusion event after the attempt reached step A and
  before step B (or, with B not reached, inside the window) marks the attempt; a marked attempt
  goes at most one step further. Exclusion events at the moment of a step event are ignored.
* The unit keeps its furthest attempt: a clean one first, then the first to reach that level.

Everything is expressions, sorts and joins: no Python loop over rows or units (the loops below
run over steps, exclusions and passes only).

How it stays fast (``benchmarks/README.md`` has the profile): the step events are sorted once, on
integers (a packed time and tie-break key, then a 64-bit hash of the unit, with an exact
fallback when two units share a hash); positions in that order replace unit and time in the
chains, which carry an integer unit ordinal; ordered funnels merge starts before the first join.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

import polars as pl

from cjkit.canonical import UID, UNIT, T
from cjkit.engine.matchers import Matcher, predicate
from cjkit.engine.passes import split_units

POS = "pos"
_HASH, _TIE, _KEY = "_hash", "_tie", "_key"
Attribution = Literal["first", "last"] | int
_MASK_BITS = 62  # steps beyond this many share a tie-break bit pattern (no peer allows > 32)
_KEY_BITS = 62  # time and tie code are packed into one Int64 key when they fit this many bits


@dataclass(frozen=True)
class Step:
    """A funnel step: its display name, the matchers that fill it, and first-time-only."""

    name: str
    matchers: tuple[Matcher, ...]
    first_time: bool = False


@dataclass(frozen=True)
class Exclusion:
    """Units with a matching event between steps ``start`` and ``end`` (1-based) are removed."""

    matchers: tuple[Matcher, ...]
    start: int
    end: int
    label: str = ""


# The most steps a funnel may have. The work grows linearly with the steps (one join each),
# but a longer funnel is almost always a mistake; PostHog and ClickHouse's windowFunnel stop
# at the same order of magnitude (PostHog: 30 in its UI; windowFunnel: 32 by default).
MAX_STEPS = 64


@dataclass(frozen=True)
class FunnelSpec:
    """Everything that decides a funnel's numbers."""

    steps: tuple[Step, ...]
    window_s: int = 14 * 86400
    order: Literal["ordered", "strict", "any"] = "ordered"
    anchor: Literal["latest", "first"] = "latest"
    allow_event_reuse: bool = False
    strict_increase: bool = False
    exclusions: tuple[Exclusion, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    by: tuple[str, ...] = ()
    attribution: Attribution = "first"
    unit: str = "user_id"
    extra_columns: tuple[str, ...] = field(default=())

    @property
    def n(self) -> int:
        """Return the number of steps."""
        return len(self.steps)

    def columns(self) -> list[str]:
        """Return the event columns this funnel reads (unit, event, time, filters, breakdowns)."""
        cols = [self.unit, "event", "timestamp", *self.by, *self.extra_columns]
        for step in self.steps:
            for m in step.matchers:
                cols.extend(m.properties())
        for ex in self.exclusions:
            for m in ex.matchers:
                cols.extend(m.properties())
        return list(dict.fromkeys(cols))


def _tcol(k: int) -> str:
    return f"t_{k}"


def _pcol(k: int) -> str:
    return f"p_{k}"


def _xcol(j: int) -> str:
    return f"_x{j}"


def _micros(value: datetime) -> int:
    return int(value.timestamp() * 1_000_000)


def _bits(cols: list[str]) -> pl.Expr:
    """Return the flags in ``cols`` packed into one integer (bit i = column i)."""
    if not cols:
        return pl.lit(0, pl.Int64)
    return pl.sum_horizontal(
        [pl.col(c).cast(pl.Int64) * (1 << min(i, _MASK_BITS)) for i, c in enumerate(cols)]
    )


def collect_scan(frame: pl.LazyFrame) -> pl.DataFrame:
    """Return ``frame`` collected on Polars' default (streaming) engine: how :func:`prepare`
    materializes its scan unless the caller passes its own function."""
    return frame.collect()


def _scan(events: pl.LazyFrame, spec: FunnelSpec) -> tuple[pl.LazyFrame, list[str], list[str]]:
    """Return the narrowed events (unit, time, flags, tie-break codes), and the flag names."""
    n = spec.n
    m_cols = [f"m_{k}" for k in range(1, n + 1)]
    x_cols = [f"x_{j}" for j in range(len(spec.exclusions))]
    if spec.until is not None:
        # On the time column itself, so the bound reaches a database or Parquet scan.
        horizon = spec.until + timedelta(seconds=spec.window_s)
        events = events.filter(pl.col("timestamp") <= horizon)
    frame = events.select(
        pl.col(spec.unit).alias(UNIT),
        pl.col("timestamp").dt.epoch("us").alias(T),
        *[predicate(s.matchers).alias(c) for s, c in zip(spec.steps, m_cols, strict=True)],
        *[predicate(e.matchers).alias(c) for e, c in zip(spec.exclusions, x_cols, strict=True)],
        *[pl.col(c) for c in spec.by if c != spec.unit],
    ).filter(pl.col(UNIT).is_not_null())
    if spec.order != "strict":
        frame = frame.filter(pl.any_horizontal([*m_cols, *x_cols]))
    first_step = pl.coalesce(
        [pl.when(pl.col(c)).then(pl.lit(k, pl.Int64)) for k, c in enumerate(m_cols, start=1)]
        + [pl.lit(n + 1, pl.Int64)]
    )
    # The tie-break of equal times, as one integer ordered like (first step, step set,
    # exclusion set): the first step an event can fill, then everything it matches.
    tie = (
        (first_step * (1 << (n + len(x_cols))))
        + (_bits(m_cols) * (1 << len(x_cols)))
        + _bits(x_cols)
        if _tie_bits(spec) <= _MASK_BITS
        else first_step
    )
    frame = frame.with_columns(pl.col(UNIT).hash(seed=0).alias(_HASH), tie.alias(_TIE))
    return frame, m_cols, x_cols


def _tie_bits(spec: FunnelSpec) -> int:
    return (spec.n + 1).bit_length() + spec.n + len(spec.exclusions)


def _sequence(frame: pl.DataFrame, spec: FunnelSpec) -> pl.DataFrame:
    """Return ``frame`` in sequence order (units contiguous, each unit's events by time and
    tie), with ``uid``, the unit's ordinal.

    A unit's order is (time, tie code, breakdown values); rows still tied are interchangeable,
    so nothing depends on row or file order (docs/metrics.md, 2.2 The sequence). Units are grouped by a 64-bit hash of
    the unit: sorting integers is several times faster than sorting strings. Two units that
    share a hash (about one chance in a million at 5M units) are detected, and then the events
    are sorted by the unit itself.
    """
    # The streaming engine returns many chunks; sorts gather faster from one.
    frame = frame.rechunk()
    by_cols = [c for c in spec.by if c != spec.unit]
    n, n_x = spec.n, len(spec.exclusions)
    tie_bits = _tie_bits(spec)
    t_min = frame[T].min() if frame.height else 0
    span = (int(frame[T].max()) - int(t_min)) if frame.height else 0  # type: ignore[arg-type]
    packed = tie_bits <= _MASK_BITS and span.bit_length() + tie_bits <= _KEY_BITS
    if packed:
        # Time and tie code packed into one integer, the only payload besides the unit and
        # the breakdowns: time and flags are unpacked after the sorts (moving fewer columns
        # through a sort is most of its cost).
        key = ((pl.col(T) - t_min) * (1 << tie_bits) + pl.col(_TIE)).alias(_KEY)
        in_time = frame.select(key, _HASH, UNIT, *by_cols).sort([_KEY, *by_cols], nulls_last=True)
    else:
        m_cols, x_cols = [f"m_{k}" for k in range(1, n + 1)], [f"x_{j}" for j in range(n_x)]
        flags = [_bits(cols) for cols in (m_cols, x_cols) if cols]
        in_time = frame.sort([T, _TIE, *flags, *by_cols], nulls_last=True)
    # A stable sort by unit hash keeps each unit's events in that order.
    grouped = in_time.sort(_HASH, maintain_order=True)
    shared = (pl.col(_HASH) == pl.col(_HASH).shift(1)) & (pl.col(UNIT) != pl.col(UNIT).shift(1))
    unit_col = _HASH
    if grouped.select(shared.any()).item():
        grouped, unit_col = in_time.sort(UNIT, maintain_order=True), UNIT
    new_unit = (pl.col(unit_col) != pl.col(unit_col).shift(1)).fill_null(value=True)
    grouped = grouped.with_columns(new_unit.cast(pl.Int64).cum_sum().alias(UID))
    if packed:
        # The tie code is the key's low bits: step k's flag is bit n_x + k - 1, exclusion j's bit j.
        key = pl.col(_KEY)
        grouped = grouped.with_columns(
            ((key // (1 << tie_bits)) + t_min).alias(T),
            *[((key & (1 << (n_x + k))) != 0).alias(f"m_{k + 1}") for k in range(n)],
            *[((key & (1 << j)) != 0).alias(f"x_{j}") for j in range(n_x)],
        ).drop(_KEY)
    return grouped.drop(_HASH, _TIE, strict=False)


def prepare(
    events: pl.LazyFrame,
    spec: FunnelSpec,
    materialize: Callable[[pl.LazyFrame], pl.DataFrame] = collect_scan,
) -> pl.DataFrame:
    """Return the units' relevant events in sequence order, with positions and flags.

    Columns: ``unit``, ``uid`` (the unit's ordinal), ``t`` (µs since epoch), ``pos`` (row
    position), ``m_k`` (the row fills step k), ``x_j`` (the row is exclusion j's event), the
    breakdown properties, and the helper columns the order mode needs (``lo``/``hi``: the first
    and last position of the row's timestamp; ``nb_k``: the next position that ends a strict
    attempt at step k). ``materialize`` collects the scan (the API shares it with other checks).
    """
    scan, m_cols, x_cols = _scan(events, spec)
    ordered = _sequence(materialize(scan), spec)
    frame = ordered.with_row_index(POS).with_columns(pl.col(POS).cast(pl.Int64)).lazy()
    first_time = [
        (pl.col(c) & (pl.col(POS) == pl.col(POS).filter(pl.col(c)).min().over(UID))).alias(c)
        for step, c in zip(spec.steps, m_cols, strict=True)
        if step.first_time
    ]
    if first_time:
        # The unit's first-ever event that fills the step, over its whole history (PostHog).
        frame = frame.with_columns(first_time)
    if spec.order == "any":
        # PostHog's unordered funnel puts an event in the first step it matches.
        frame = frame.with_columns(
            (pl.col(c) & ~pl.any_horizontal(m_cols[:k])).alias(c) if k else pl.col(c)
            for k, c in enumerate(m_cols)
        )
    # Each row's timestamp run: the first and last position of the unit's events at that time.
    # Run-level facts come from cumulative sums read at those two positions, which is much
    # cheaper than a window over (unit, time) on millions of rows.
    search_runs = spec.allow_event_reuse or spec.strict_increase or spec.order == "any"
    if search_runs or x_cols or spec.order == "strict":
        frame = _runs(frame, m_cols, x_cols, spec, keep=search_runs)
    return frame.collect(engine="in-memory")


def _runs(
    frame: pl.LazyFrame, m_cols: list[str], x_cols: list[str], spec: FunnelSpec, *, keep: bool
) -> pl.LazyFrame:
    new_run = (pl.col(UID) != pl.col(UID).shift(1)) | (pl.col(T) != pl.col(T).shift(1))
    end_run = (pl.col(UID) != pl.col(UID).shift(-1)) | (pl.col(T) != pl.col(T).shift(-1))
    frame = frame.with_columns(
        pl.when(new_run.fill_null(value=True)).then(pl.col(POS)).forward_fill().alias("lo"),
        pl.when(end_run.fill_null(value=True)).then(pl.col(POS)).backward_fill().alias("hi"),
    )
    if x_cols:
        # PostHog processes events that share a timestamp with a step event without exclusions.
        steps = pl.any_horizontal(m_cols).cast(pl.Int64).cum_sum()
        frame = frame.with_columns(steps.alias("_steps"))
        before = pl.col("_steps").gather(pl.col("lo")) - pl.any_horizontal(m_cols).gather(
            pl.col("lo")
        ).cast(pl.Int64)
        at_step = pl.col("_steps").gather(pl.col("hi")) > before
        frame = frame.with_columns((pl.col(c) & ~at_step).alias(c) for c in x_cols).drop("_steps")
    if spec.order == "strict":
        frame = _strict_breaks(frame, m_cols, x_cols)
    return frame if keep else frame.drop("lo", "hi")


def _strict_breaks(frame: pl.LazyFrame, m_cols: list[str], x_cols: list[str]) -> pl.LazyFrame:
    """Add ``nb_k``: the next position after each row whose event ends an attempt at step k.

    Such an event does not match step k, and every event of the unit at its timestamp has the
    same flags (PostHog skips strict clearing inside a group of different events). The next
    break may lie in the next unit: a step candidate of this unit always comes before it.
    """
    flags = _bits([*m_cols, *x_cols])
    changed = (flags != flags.shift(1)).fill_null(value=True) & (pl.col(POS) != pl.col("lo"))
    frame = frame.with_columns(changed.cast(pl.Int64).cum_sum().alias("_changes"))
    uniform = pl.col("_changes").gather(pl.col("hi")) == pl.col("_changes").gather(pl.col("lo"))
    frame = frame.with_columns(uniform.alias("_uniform"))
    breaks = [
        pl.when(~pl.col(c) & pl.col("_uniform"))
        .then(pl.col(POS))
        .shift(-1)
        .backward_fill()
        .alias(f"nb_{k}")
        for k, c in enumerate(m_cols[:-1], start=1)
    ]
    return frame.with_columns(breaks).drop("_uniform", "_changes")


def _in_range(spec: FunnelSpec) -> pl.Expr:
    expr = pl.lit(value=True)
    if spec.since is not None:
        expr = expr & (pl.col(T) >= _micros(spec.since))
    if spec.until is not None:
        expr = expr & (pl.col(T) <= _micros(spec.until))
    return expr


def _helper_cols(base: pl.LazyFrame) -> list[str]:
    return [c for c in ("lo", "hi") if c in base.collect_schema()]


def _starts(base: pl.LazyFrame, spec: FunnelSpec) -> pl.LazyFrame:
    starts = base.filter(pl.col("m_1") & _in_range(spec))
    if spec.anchor == "first":
        # Mixpanel's uniques: the unit's first step-1 event in the range is its only entry.
        starts = starts.filter(pl.col(POS) == pl.col(POS).min().over(UID))
    return _as_attempts(starts.select(UID, T, POS, *_helper_cols(base)))


def _as_attempts(starts: pl.LazyFrame) -> pl.LazyFrame:
    return starts.with_columns(
        pl.col(T).alias("start"),
        pl.col(POS).alias("start_pos"),
        pl.col(T).alias(_tcol(1)),
        pl.col(POS).alias(_pcol(1)),
        pl.lit(1, pl.Int32).alias("level"),
    )


def _first_starts(starts: pl.LazyFrame) -> pl.LazyFrame:
    """Return each unit's first attempt (starts are in sequence order)."""
    return starts.filter((pl.col(UID) != pl.col(UID).shift(1)).fill_null(value=True))


def _merged_starts(base: pl.LazyFrame, spec: FunnelSpec) -> pl.LazyFrame:
    """Return the starts that can survive step 2's merge, in sequence order.

    Starts with no step-2 event between them find the same next step-2 event, and the merge
    keeps the latest start (the first of equal ones): this drops the others before the join.
    Exact for ``ordered`` with one event per step (where step 2's search begins right after
    the start).
    """
    segment = pl.col("m_2").cast(pl.Int64).cum_sum().alias("_seg")
    starts = base.with_columns(segment).filter(pl.col("m_1") & _in_range(spec))
    same_group = (pl.col(UID) == pl.col(UID).shift(1)) & (pl.col("_seg") == pl.col("_seg").shift(1))
    time_runs = starts.filter(
        ~(same_group & (pl.col(T) == pl.col(T).shift(1))).fill_null(value=False)
    )
    next_group = (pl.col(UID) == pl.col(UID).shift(-1)) & (
        pl.col("_seg") == pl.col("_seg").shift(-1)
    )
    latest = time_runs.filter(~next_group.fill_null(value=False))
    return _as_attempts(latest.select(UID, T, POS, *_helper_cols(base)))


def _search_key(spec: FunnelSpec) -> tuple[str, bool]:
    """Return (the chain column to search from, whether an equal position may match)."""
    if spec.strict_increase:
        return "hi", False  # the next step must be at a later time than the whole tie group
    if spec.allow_event_reuse:
        return "lo", True  # the same event, or any event at the same time, may fill it
    return POS, False  # a later event in the sequence: one event fills one step


def _first_x_after(chains: pl.LazyFrame, base: pl.LazyFrame, j: int, step: int) -> pl.LazyFrame:
    """Add ``_x{j}``: the time of the unit's first exclusion-j event after the chain's step.

    Every chain given here has reached ``step`` (callers pass chains at or past it).
    """
    events = (
        base.filter(pl.col(f"x_{j}"))
        .select(UID, pl.col(T).alias("_xt"), pl.col(T).alias(_xcol(j)))
        .sort("_xt")
    )
    return (
        chains.with_columns(pl.col(_tcol(step)).alias("_xt"))
        .sort("_xt")
        .join_asof(
            events,
            on="_xt",
            by=UID,
            strategy="forward",
            allow_exact_matches=False,
            check_sortedness=False,
        )
        .drop("_xt")
    )


def _frozen(spec: FunnelSpec, k: int) -> pl.Expr | None:
    """Return: the chain was marked by an exclusion at a step before k-1 (it may not go on)."""
    marks = [
        (pl.col(_xcol(j)) < pl.col(_tcol(min(ex.end, k - 1)))).fill_null(value=False)
        for j, ex in enumerate(spec.exclusions)
        if ex.start <= k - 2
    ]
    return pl.any_horizontal(marks) if marks else None


def _chains(base: pl.LazyFrame, spec: FunnelSpec, *, strict: bool) -> pl.LazyFrame:
    window = spec.window_s * 1_000_000
    key, exact = _search_key(spec)
    helpers = _helper_cols(base)
    chains = _starts(base, spec)
    finished: list[pl.LazyFrame] = []
    # Without exclusions, an attempt that stops at step 1 is chosen only when nothing goes
    # further, and then it is the unit's first start: keep that one instead of them all.
    stopped_at_start = bool(spec.exclusions)
    if not stopped_at_start:
        finished.append(_first_starts(chains))
        if not strict and key == POS and spec.anchor == "latest":
            chains = _merged_starts(base, spec)
    for k in range(2, spec.n + 1):
        for j, ex in enumerate(spec.exclusions):
            if ex.start == k - 1:
                chains = _first_x_after(chains, base, j, ex.start)
        frozen = _frozen(spec, k)
        right_cols = [POS, UID, T, *helpers]
        candidates = (
            base.filter(pl.col(f"m_{k}"))
            .select(right_cols)
            .rename({c: f"{c}_r" for c in right_cols})
            .with_columns(pl.col(f"{POS}_r").alias("key_r"))
        )
        left = chains.with_columns(pl.col(key).alias("key_l"))
        if strict:
            # A chain at step k-1 sits on a step-(k-1) event: join only those rows.
            breaks = base.filter(pl.col(f"m_{k - 1}")).select(
                POS, pl.col(f"nb_{k - 1}").alias("_nb")
            )
            left = left.join(breaks, on=POS, how="left")
        joined = left.sort("key_l").join_asof(
            candidates,
            left_on="key_l",
            right_on="key_r",
            strategy="forward",
            allow_exact_matches=exact,
            check_sortedness=False,
        )
        ok = (
            pl.col(f"{UID}_r").is_not_null()
            & (pl.col(f"{UID}_r") == pl.col(UID))
            & (pl.col(f"{T}_r") - pl.col("start") <= window)
        )
        if strict:
            ok = ok & (pl.col("_nb").is_null() | (pl.col(f"{POS}_r") <= pl.col("_nb")))
        if frozen is not None:
            ok = ok & ~frozen  # marked by an exclusion one step back: it stops here
        drop = (
            [f"{c}_r" for c in right_cols] + ["key_l", "key_r", "ok"] + (["_nb"] if strict else [])
        )
        # Materialized once per step: both the finished attempts and the next step read it,
        # and as one lazy plan each step would nest the whole plan before it twice (a plan
        # quadratic in the steps, and optimizer time growing faster still: 40 steps took
        # 27 s on 20 rows). Collected, the plan stays one join deep and the work is linear.
        joined = joined.with_columns(ok.fill_null(value=False).alias("ok")).collect().lazy()
        if k > 2 or stopped_at_start:
            finished.append(joined.filter(~pl.col("ok")).drop(drop))
        advanced = joined.filter(pl.col("ok")).with_columns(
            pl.col(f"{T}_r").alias(T),
            pl.col(f"{T}_r").alias(_tcol(k)),
            pl.col(f"{POS}_r").alias(POS),
            pl.col(f"{POS}_r").alias(_pcol(k)),
            pl.lit(k, pl.Int32).alias("level"),
            *[pl.col(f"{c}_r").alias(c) for c in helpers],
        )
        # Attempts that take the same event for this step continue identically: keep the
        # latest start, as PostHog's newer path overwrites the older one (then the first of
        # equal starts, which PostHog saw first).
        chains = (
            advanced.drop(drop)
            .sort([POS, "start", "start_pos"], descending=[False, True, False])
            .unique(subset=[POS], keep="first", maintain_order=True)
        )
    finished.append(chains)
    return pl.concat(finished, how="diagonal").drop(T, POS, *helpers)


def ordered_chains(base: pl.LazyFrame, spec: FunnelSpec) -> pl.LazyFrame:
    """Return every attempt's chain: unit, start, start_pos, level, t_k and p_k."""
    return _chains(base, spec, strict=False)


def strict_chains(base: pl.LazyFrame, spec: FunnelSpec) -> pl.LazyFrame:
    """Return the chains of a strict funnel (no other event of the unit between two steps)."""
    return _chains(base, spec, strict=True)


def any_order_chains(base: pl.LazyFrame, spec: FunnelSpec) -> pl.LazyFrame:
    """Return, for every entering event, the first event of each step within its window.

    ``t_k``/``p_k`` are the k-th of those events in sequence order, so ``t_k`` is the moment
    the unit had completed k steps (PostHog unordered).
    """
    window = spec.window_s * 1_000_000
    m_cols = [f"m_{k}" for k in range(1, spec.n + 1)]
    # Sorted once: join_asof keeps the left order, so every step's join can rely on it.
    anchors = (
        base.filter(pl.any_horizontal(m_cols) & _in_range(spec))
        .select(UID, T, POS, "lo")
        .sort("lo")
    )
    found: list[tuple[str, str]] = []
    joined = anchors
    for k in range(1, spec.n + 1):
        candidates = base.filter(pl.col(f"m_{k}")).select(
            pl.col(POS).alias("key_r"),
            pl.col(UID).alias("_unit_r"),
            pl.col(T).alias(f"_t{k}"),
            pl.col(POS).alias(f"_p{k}"),
        )
        joined = (
            joined.join_asof(
                candidates,
                left_on="lo",
                right_on="key_r",
                strategy="forward",
                check_sortedness=False,
            )
            .with_columns(
                ((pl.col("_unit_r") == pl.col(UID)) & (pl.col(f"_t{k}") - pl.col(T) <= window))
                .fill_null(value=False)
                .alias("_in")
            )
            .with_columns(
                pl.when(pl.col("_in")).then(pl.col(f"_t{k}")).alias(f"_t{k}"),
                pl.when(pl.col("_in")).then(pl.col(f"_p{k}")).alias(f"_p{k}"),
            )
            .drop("key_r", "_unit_r", "_in")
        )
        found.append((f"_t{k}", f"_p{k}"))
    # Each found event's rank among the found ones (positions are distinct), so the k-th
    # sorted event is picked with n² comparisons — far cheaper than sorting a list per row.
    rank = {
        p: 1
        + pl.sum_horizontal(
            [
                (pl.col(q) < pl.col(p)).fill_null(value=False).cast(pl.Int32)
                for _, q in found
                if q != p
            ]
        )
        for _, p in found
    }
    out = joined.with_columns(
        *[rank[p].alias(f"_r{p}") for _, p in found],
        pl.sum_horizontal([pl.col(p).is_not_null().cast(pl.Int32) for _, p in found]).alias(
            "level"
        ),
    )
    cols: list[pl.Expr] = []
    for k in range(1, spec.n + 1):
        for which, col in ((0, _tcol(k)), (1, _pcol(k))):
            picks = [
                pl.when(pl.col(p).is_not_null() & (pl.col(f"_r{p}") == k)).then(pl.col(pair[which]))
                for pair in found
                for p in [pair[1]]
            ]
            cols.append(pl.coalesce(picks).alias(col))
    return out.select(
        UID,
        pl.col(T).alias("start"),
        pl.col(POS).alias("start_pos"),
        pl.col("level").cast(pl.Int32),
        *cols,
    )


def _step_cols(n: int) -> list[str]:
    cols: list[str] = []
    for k in range(1, n + 1):
        cols += [_tcol(k), _pcol(k)]
    return cols


def chains(base: pl.LazyFrame, spec: FunnelSpec) -> pl.LazyFrame:
    """Return the attempts of the spec's order mode, with missing step columns as nulls."""
    if spec.order == "strict":
        out = strict_chains(base, spec)
    elif spec.order == "any":
        out = any_order_chains(base, spec)
    else:
        out = ordered_chains(base, spec)
    schema = out.collect_schema()
    fill = [pl.lit(None, pl.Int64).alias(c) for c in _step_cols(spec.n) if c not in schema]
    return out.with_columns(fill) if fill else out


def _excluded(attempts: pl.LazyFrame, base: pl.LazyFrame, spec: FunnelSpec) -> pl.LazyFrame:
    """Return the attempts with an ``excluded`` flag, cut to the step they may still reach.

    Exclusion (A, B) marks an attempt when its first exclusion event after step A comes before
    step B — or, with B not reached, inside the window of the attempt's start. PostHog then lets
    the marked path go one step further and no more.
    """
    window = spec.window_s * 1_000_000
    n = spec.n
    schema = attempts.collect_schema()
    marks: list[pl.Expr] = []
    reach: list[pl.Expr] = []
    for j, ex in enumerate(spec.exclusions):
        if _xcol(j) not in schema:
            attempts = _first_x_after(attempts, base, j, ex.start)
        x = pl.col(_xcol(j))
        inside = (
            pl.when(pl.col("level") >= ex.end)
            .then(x < pl.col(_tcol(ex.end)))
            .otherwise(x <= pl.col("start") + window)
        )
        mark = (x.is_not_null() & (pl.col("level") >= ex.start) & inside).fill_null(value=False)
        steps_before = pl.sum_horizontal(
            [(pl.col(_tcol(k)) < x).fill_null(value=False).cast(pl.Int32) for k in range(1, n + 1)]
        )
        marks.append(mark)
        reach.append(pl.when(mark).then(steps_before + 1))
    level = pl.min_horizontal(pl.col("level"), *reach).cast(pl.Int32)
    attempts = attempts.with_columns(
        pl.any_horizontal(marks).alias("excluded"), level.alias("level")
    )
    cut = []
    for k in range(2, n + 1):
        keep = pl.col("level") >= k
        cut += [
            pl.when(keep).then(pl.col(_tcol(k))).alias(_tcol(k)),
            pl.when(keep).then(pl.col(_pcol(k))).alias(_pcol(k)),
        ]
    return attempts.with_columns(cut).drop([_xcol(j) for j in range(len(spec.exclusions))])


def journeys(
    events: pl.LazyFrame,
    spec: FunnelSpec,
    materialize: Callable[[pl.LazyFrame], pl.DataFrame] = collect_scan,
    passes: int = 1,
) -> pl.LazyFrame:
    """Return one row per unit that entered the funnel.

    Columns: ``unit``, ``level`` (furthest step, 1..n), ``excluded`` (removed by an exclusion
    step), ``t_1``…``t_n`` (µs since epoch, null beyond ``level``) of the chosen attempt — the
    furthest, a clean one first, then the first to reach that level — and the breakdown
    properties (attributed per ``spec.attribution``). The scan of ``events`` runs here, through
    ``materialize``; the returned query works on the materialized, sorted events.

    With ``passes > 1`` the units are split by hash into that many disjoint parts, each read
    and computed on its own (a unit's whole history is always in one part), so memory holds
    one part's events at a time; the parts' tables are collected and concatenated.
    """
    if passes <= 1:
        return _journeys(events, spec, materialize)
    tables = []
    for i, part in enumerate(split_units(events, spec.unit, passes)):
        collect = materialize if i == 0 else collect_scan
        tables.append(_journeys(part, spec, collect).collect(engine="in-memory"))
    return pl.concat(tables).lazy()


def _journeys(
    events: pl.LazyFrame,
    spec: FunnelSpec,
    materialize: Callable[[pl.LazyFrame], pl.DataFrame],
) -> pl.LazyFrame:
    return journeys_from(prepare(events, spec, materialize), spec)


def attempts(table: pl.DataFrame, spec: FunnelSpec) -> pl.LazyFrame:
    """Return every attempt of the prepared ``table`` (:func:`prepare`) whose step-1 event is in
    ``spec``'s range, with its ``uid``, ``start`` (µs), ``level``, ``excluded`` and step times.

    A table prepared once (with the widest range's ``until``) serves several ranges: only the
    starts depend on ``since``/``until``, so comparisons and trends share one scan.
    """
    base = table.lazy()
    out = chains(base, spec)
    if spec.exclusions:
        return _excluded(out, base, spec)
    return out.with_columns(pl.lit(value=False).alias("excluded"))


def journeys_from(table: pl.DataFrame, spec: FunnelSpec) -> pl.LazyFrame:
    """Return :func:`journeys`' per-unit table from an already prepared ``table``."""
    attempts_ = attempts(table, spec)
    p_last = pl.coalesce([pl.col(_pcol(k)) for k in range(spec.n, 0, -1)])
    # PostHog's max_step: the first path to reach the furthest step; a clean path replaces an
    # excluded one at the same step. Ties on that event go to the latest start (ordered: the
    # newer path overwrote the older) or to the earliest (unordered: its deque fronts).
    later_first = spec.order != "any"
    units = (
        attempts_.with_columns(p_last.alias("_p_last"))
        .sort(
            [UID, "level", "excluded", "_p_last", "start", "start_pos"],
            descending=[False, True, False, False, later_first, False],
        )
        .filter(pl.col(UID) != pl.col(UID).shift(1).fill_null(-1))
    )
    # Positions index the materialized events: the unit and its breakdown values are gathers.
    at = _attribution_position(spec)
    units = units.with_columns(
        pl.lit(table[UNIT]).gather(pl.col("start_pos")).alias(UNIT),
        *[pl.lit(table[UNIT if c == spec.unit else c]).gather(at).alias(c) for c in spec.by],
    )
    cols = [UNIT, "level", "excluded", *[_tcol(k) for k in range(1, spec.n + 1)], *spec.by]
    return units.select(cols)


def _attribution_position(spec: FunnelSpec) -> pl.Expr:
    """Return the position of the event whose properties the unit's breakdown takes."""
    if spec.attribution == "first":
        return pl.col(_pcol(1))
    if spec.attribution == "last":
        return pl.coalesce([pl.col(_pcol(k)) for k in range(spec.n, 0, -1)])
    return pl.col(_pcol(int(spec.attribution)))
