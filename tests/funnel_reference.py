"""A deliberately simple funnel reference: a per-unit Python state machine (tests only).

It follows ``docs/metrics.md`` ("Funnel metrics") (and ``semantics.md`` §1) literally, with plain loops and
no Polars, so that the vectorized engine in ``cjkit.engine.journeys`` can be checked against it
on random event logs. It also holds straight transcriptions of the two peers' own algorithms
— PostHog's ``funnel-udf/src/steps.rs`` and ClickHouse's ``windowFunnel`` — so a test can show
that the definition and the peers agree where they should.

The definition, in short:

* A unit's events form one **sequence**, sorted by time; at equal times by the first step the
  event can fill, then by the set of steps it can fill, then its exclusion flags, then its
  breakdown values. A step marked first-time keeps only the unit's first event of that kind
  (in sequence order, over all history).
* An exclusion event at the same moment as any step event of the unit is ignored (PostHog
  processes same-timestamp events without exclusions).
* **Attempts** start at step-1 events inside ``[since, until]`` (``anchor="first"``: only the
  unit's first such event). Each attempt takes, for step k, the next event of the sequence that
  can fill step k, within ``t - start <= window`` (``strict_increase``: also later than the
  previous step). With ``allow_event_reuse`` the sequence is one item per (event, step),
  ordered by (time, step), so an event can fill several steps.
* ``strict``: an event that neither advances the attempt nor matches its current step ends it,
  unless another event of the unit with different step flags shares its timestamp.
* Two attempts that take the same event for the same step merge; the one with the latest start
  survives (PostHog keeps one path per step, overwritten by newer starts).
* **Exclusions** (PostHog): an exclusion event after the attempt reached step A, and before it
  reached step B (or, when B was not reached, within the window of the attempt's start), marks
  the attempt excluded. A marked attempt can still go one step further, then stops.
* The unit's result is its furthest attempt; among attempts that reach that level, a clean one
  first, then the first to reach it (then the latest start). If that attempt is excluded, the
  unit is removed from every step.
* ``any`` order: each event fills the first step it matches; an attempt starts at any step
  event inside the range and holds the first event of each step within ``[start, start +
  window]``; its step times are those first events, sorted. Ties go to the earliest start.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cjkit.engine.funnel.journeys import FunnelSpec
from cjkit.engine.matchers import Matcher

Row = dict[str, Any]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# --- matching (independent of cjkit.engine.matchers.predicate) --------------------------------


def _compare(value: Any, op: str, arg: Any) -> bool:
    if op == "eq":
        return value is None if arg is None else value is not None and value == arg
    if op == "ne":
        return value is not None if arg is None else value is not None and value != arg
    if op in ("in", "not_in"):
        values = arg if isinstance(arg, list) else [arg]
        hit = (value is None and None in values) or (value is not None and value in values)
        return hit if op == "in" else not hit
    if op == "exists":
        return (value is not None) == bool(arg)
    if value is None:
        return False
    if op == "contains":
        return str(arg) in str(value)
    return bool(
        {"gt": value > arg, "gte": value >= arg, "lt": value < arg, "lte": value <= arg}[op]
    )


def matches(matchers: Iterable[Matcher], row: Row) -> bool:
    """Return True when ``row`` matches any matcher (event name plus every filter)."""
    for m in matchers:
        if row.get("event") != m.name:
            continue
        ok = True
        for prop, cond in m.where.items():
            value = row.get(prop)
            if isinstance(cond, list):
                ok = _compare(value, "in", cond)
            elif isinstance(cond, dict):
                ok = all(_compare(value, op, arg) for op, arg in cond.items())
            else:
                ok = _compare(value, "eq", cond)
            if not ok:
                break
        if ok:
            return True
    return False


# --- the unit's sequence --------------------------------------------------------------------


@dataclass
class Ev:
    """One event of a unit's sequence: position, time (µs), step and exclusion flags."""

    pos: int
    t: int
    m: list[bool]  # m[k] for k = 1..n (index 0 unused)
    x: list[bool]
    props: Row
    uniform: bool = True  # every event of the unit at this time has the same flags


def _micros(value: Any) -> int:
    if isinstance(value, datetime):
        return (value - _EPOCH) // timedelta(microseconds=1)
    return int(value)


def _null_last(value: Any) -> tuple[bool, Any]:
    return (value is None, value)


def sequence(rows: Sequence[Row], spec: FunnelSpec) -> list[Ev]:
    """Return one unit's events in the funnel's order, with final step and exclusion flags."""
    n = spec.n
    evs: list[tuple[tuple[Any, ...], Ev]] = []
    for row in rows:
        m = [False] + [matches(s.matchers, row) for s in spec.steps]
        x = [matches(e.matchers, row) for e in spec.exclusions]
        first = next((k for k in range(1, n + 1) if m[k]), n + 1)
        mask = sum(1 << (k - 1) for k in range(1, n + 1) if m[k])
        xmask = sum(1 << j for j, hit in enumerate(x) if hit)
        t = _micros(row["timestamp"])
        key = (t, first, mask, xmask, *[_null_last(row.get(c)) for c in spec.by])
        evs.append((key, Ev(0, t, m, x, row)))
    evs.sort(key=lambda pair: pair[0])
    seq = [ev for _, ev in evs]
    for i, ev in enumerate(seq):
        ev.pos = i
    for k, step in enumerate(spec.steps, start=1):
        if step.first_time:
            seen = False
            for ev in seq:
                if ev.m[k]:
                    ev.m[k] = not seen
                    seen = True
    if spec.order == "any":
        for ev in seq:
            hit = False
            for k in range(1, n + 1):
                ev.m[k] = ev.m[k] and not hit
                hit = hit or ev.m[k]
    by_time: dict[int, list[Ev]] = defaultdict(list)
    for ev in seq:
        by_time[ev.t].append(ev)
    for group in by_time.values():
        has_step = any(any(ev.m[1:]) for ev in group)
        if has_step:
            for ev in group:
                ev.x = [False] * len(ev.x)
        flags = {(tuple(ev.m), tuple(ev.x)) for ev in group}
        for ev in group:
            ev.uniform = len(flags) == 1
    if spec.order != "strict":
        seq = [ev for ev in seq if any(ev.m[1:]) or any(ev.x)]
    return seq


# --- attempts --------------------------------------------------------------------------------


@dataclass
class Attempt:
    """One attempt: its step times and sequence positions, and its exclusion state."""

    start: int
    start_pos: int
    t: list[int] = field(default_factory=list)
    p: list[int] = field(default_factory=list)
    excluded: bool = False
    marked_level: int = 0
    done: bool = False  # can't advance any more (strict break, or excluded and one step on)

    @property
    def level(self) -> int:
        return len(self.t)


def _in_range(t: int, spec: FunnelSpec) -> bool:
    if spec.since is not None and t < _micros(spec.since):
        return False
    return not (spec.until is not None and t > _micros(spec.until))


def _mark(attempts: Iterable[Attempt], ev: Ev, spec: FunnelSpec) -> None:
    window = spec.window_s * 1_000_000
    for att in attempts:
        if att.excluded:
            continue
        for j, ex in enumerate(spec.exclusions):
            s = att.level
            if (
                ev.x[j]
                and ex.start <= s < ex.end
                and ev.t > att.t[ex.start - 1]
                and ev.t - att.start <= window
            ):
                att.excluded = True
                att.marked_level = s
                break


def _can_advance(att: Attempt) -> bool:
    return not att.done and not (att.excluded and att.level > att.marked_level)


def _merge(advanced: list[Attempt], alive: list[Attempt]) -> list[Attempt]:
    """Keep, per new level, the attempt with the latest start (then the earliest start event)."""
    by_level: dict[int, list[Attempt]] = defaultdict(list)
    for att in advanced:
        by_level[att.level].append(att)
    dropped: set[int] = set()
    for group in by_level.values():
        keep = min(group, key=lambda a: (-a.start, a.start_pos))
        dropped.update(id(a) for a in group if a is not keep)
    return [a for a in alive if id(a) not in dropped]


def ordered_attempts(seq: list[Ev], spec: FunnelSpec) -> list[Attempt]:
    """Return the attempts of an ordered or strict funnel (merged ones left out)."""
    window = spec.window_s * 1_000_000
    n = spec.n
    attempts: list[Attempt] = []
    started = False
    items: list[tuple[Ev, int]]  # (event, step); step 0 = the event as a whole
    if spec.allow_event_reuse:
        items = [(ev, k) for ev in seq for k in range(1, n + 1) if ev.m[k]]
        items += [(ev, n + 1) for ev in seq if any(ev.x)]
        items.sort(key=lambda it: (it[0].t, it[1], it[0].pos))
    else:
        items = [(ev, 0) for ev in seq]
    for ev, step in items:
        if any(ev.x) and step in (0, n + 1):
            _mark(attempts, ev, spec)
        advanced: list[Attempt] = []
        for att in attempts:
            if not _can_advance(att) or att.level == n:
                continue
            k = att.level + 1
            fills = ev.m[k] if step == 0 else step == k
            ok = (
                fills
                and ev.t - att.start <= window
                and (not spec.strict_increase or ev.t > att.t[-1])
            )
            if ok:
                att.t.append(ev.t)
                att.p.append(ev.pos)
                advanced.append(att)
            elif spec.order == "strict" and not ev.m[att.level] and ev.uniform:
                att.done = True
        attempts = _merge(advanced, attempts)
        starts_here = ev.m[1] if step == 0 else step == 1
        if starts_here and _in_range(ev.t, spec) and not (spec.anchor == "first" and started):
            attempts.append(Attempt(ev.t, ev.pos, [ev.t], [ev.pos]))
            started = True
    return attempts


def any_order_attempts(seq: list[Ev], spec: FunnelSpec) -> list[Attempt]:
    """Return one attempt per entering event of an any-order funnel, exclusions applied."""
    window = spec.window_s * 1_000_000
    n = spec.n
    attempts: list[Attempt] = []
    for anchor in seq:
        if not any(anchor.m[1:]) or not _in_range(anchor.t, spec):
            continue
        firsts: list[Ev] = []
        for k in range(1, n + 1):
            hit = next((e for e in seq if e.m[k] and anchor.t <= e.t <= anchor.t + window), None)
            if hit is not None:
                firsts.append(hit)
        firsts.sort(key=lambda e: e.pos)
        att = Attempt(anchor.t, anchor.pos, [e.t for e in firsts], [e.pos for e in firsts])
        # Exclusions of an any-order funnel span the whole funnel: mark as the stream would.
        for ev in seq:
            if any(ev.x) and ev.t > att.t[0]:
                level_then = sum(1 for t in att.t if t < ev.t)
                full = att.level == n
                inside = ev.t < att.t[-1] if full else ev.t <= att.start + window
                if inside:
                    att.excluded = True
                    att.t = att.t[: level_then + 1]
                    att.p = att.p[: level_then + 1]
                    break
        attempts.append(att)
    return attempts


# --- the unit's result ----------------------------------------------------------------------


@dataclass(frozen=True)
class UnitResult:
    """A unit's furthest step, exclusion, step times (µs; None beyond the level), breakdown."""

    level: int
    excluded: bool
    times: tuple[int | None, ...]
    by: tuple[Any, ...]


def choose(attempts: list[Attempt], spec: FunnelSpec) -> Attempt | None:
    """Return the unit's attempt: the furthest; a clean one first; then the first to get there."""
    if not attempts:
        return None
    top = max(a.level for a in attempts)
    sign = 1 if spec.order == "any" else -1
    return min(
        (a for a in attempts if a.level == top),
        key=lambda a: (a.excluded, a.p[-1], sign * a.start, a.start_pos),
    )


def unit_result(att: Attempt, seq: list[Ev], spec: FunnelSpec) -> UnitResult:
    """Return the result row of the chosen attempt."""
    times = tuple(att.t[k] if k < att.level else None for k in range(spec.n))
    if spec.attribution == "first":
        at: int | None = att.p[0]
    elif spec.attribution == "last":
        at = att.p[-1]
    else:
        k = int(spec.attribution)
        at = att.p[k - 1] if att.level >= k else None
    by_pos = {ev.pos: ev for ev in seq}
    values = tuple(None if at is None else by_pos[at].props.get(c) for c in spec.by)
    return UnitResult(att.level, att.excluded, times, values)


def reference(rows: Sequence[Row], spec: FunnelSpec) -> dict[Any, UnitResult]:
    """Return, per unit that entered the funnel, its result. ``rows`` are canonical events."""
    units: dict[Any, list[Row]] = defaultdict(list)
    for row in rows:
        unit = row.get(spec.unit)
        if unit is None or row.get("timestamp") is None:
            continue
        units[unit].append(row)
    out: dict[Any, UnitResult] = {}
    for unit, unit_rows in units.items():
        seq = sequence(unit_rows, spec)
        attempts = (
            any_order_attempts(seq, spec) if spec.order == "any" else ordered_attempts(seq, spec)
        )
        chosen = choose(attempts, spec)
        if chosen is not None:
            out[unit] = unit_result(chosen, seq, spec)
    return out


# --- phase 2 --------------------------------------------------------------------------------


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


@dataclass(frozen=True)
class StepNumbers:
    """A step's count and its time-to-convert statistics in seconds (None when no unit)."""

    count: int
    mean_s: float | None
    median_s: float | None
    p90_s: float | None


def summarize(results: dict[Any, UnitResult], n: int) -> list[StepNumbers]:
    """Return per step the count of kept units at or past it, and the gaps' mean/median/p90."""
    kept = [r for r in results.values() if not r.excluded]
    out: list[StepNumbers] = []
    for k in range(1, n + 1):
        reached = [r for r in kept if r.level >= k]
        if k == 1 or not reached:
            out.append(StepNumbers(len(reached), None, None, None))
            continue
        gaps = [(r.times[k - 1] - r.times[k - 2]) / 1_000_000 for r in reached]  # type: ignore[operator]
        out.append(
            StepNumbers(
                len(reached),
                sum(gaps) / len(gaps),
                _quantile(gaps, 0.5),
                _quantile(gaps, 0.9),
            )
        )
    return out


# --- the peers' own algorithms, transcribed -------------------------------------------------


def posthog_steps(
    seq: list[Ev], spec: FunnelSpec, *, groups: bool = False
) -> tuple[int, bool, list[int]]:
    """Return (max step, excluded, step times) from PostHog's steps.rs run over ``seq``.

    A transcription of ``AggregateFunnelRow::loop_prop_val``/``process_event`` for ordered and
    strict funnels: ``entered[0]`` is reset at each new timestamp, each event's steps are
    processed from the highest down, exclusion (A, B) carries step codes -(A+1)…-B, and strict
    funnels clear every path the event does not match.

    By default events go one at a time in cjkit's sequence order (strict clearing skipped for
    events whose timestamp is shared with events of other flags), which is cjkit's definition.
    ``groups=True`` follows PostHog to the letter: a timestamp whose events do not all carry the
    same steps is split into one item per (event, step), sorted by step and run without strict
    clearing or exclusions, an event used at most once per path.
    """
    window = spec.window_s * 1_000_000
    n = spec.n

    @dataclass
    class Entered:
        timestamp: float = 0.0
        excluded: bool = False
        timings: list[int] = field(default_factory=list)
        uuids: list[int] = field(default_factory=list)

    entered = [Entered() for _ in range(n + 1)]
    max_step: tuple[int, Entered] = (0, Entered())

    def codes_of(ev: Ev) -> list[int]:
        codes = [k for k in range(1, n + 1) if ev.m[k]]
        for j, ex in enumerate(spec.exclusions):
            if ev.x[j]:
                codes += [-s for s in range(ex.start + 1, ex.end + 1)]
        return codes

    def process(ev: Ev, codes: list[int], *, multiple: bool) -> None:
        nonlocal max_step
        for code in sorted(codes, key=abs, reverse=True):
            exclusion = code < 0
            step = abs(code)
            prev = entered[step - 1]
            in_window = prev.timestamp != 0.0 and (ev.t + 1.0) - prev.timestamp <= window
            already = entered[step].timestamp == prev.timestamp and entered[step].timestamp != 0.0
            if not in_window or already:
                continue
            if exclusion:
                if not prev.excluded:
                    prev.excluded = True
                    if max_step[0] == step - 1 and (ev.t + 1.0) - max_step[1].timestamp <= window:
                        max_step[1].excluded = True
                continue
            if multiple and ev.pos in prev.uuids:
                continue
            new = Entered(
                prev.timestamp, prev.excluded, [*prev.timings, ev.t], [*prev.uuids, ev.pos]
            )
            if not prev.excluded:
                entered[step] = new
            if step > max_step[0] or (step == max_step[0] and max_step[1].excluded):
                max_step = (step, new)
        if spec.order == "strict" and not multiple and (groups or ev.uniform):
            for i in range(1, n + 1):
                if not ev.m[i]:
                    entered[i] = Entered()

    by_time: dict[int, list[Ev]] = defaultdict(list)
    for ev in seq:
        by_time[ev.t].append(ev)
    for t in sorted(by_time):
        # Timestamps shift by one so that 0.0 keeps meaning "not reached".
        entered[0] = Entered(float(t) + 1.0)
        group = by_time[t]
        if not groups or len({tuple(codes_of(ev)) for ev in group}) == 1:
            for ev in group:
                process(ev, codes_of(ev), multiple=False)
        else:
            atoms = sorted(
                ((ev, k) for ev in group for k in codes_of(ev) if k > 0), key=lambda a: a[1]
            )
            for ev, k in atoms:
                process(ev, [k], multiple=True)
        if entered[n].timestamp > 0.0:
            break
    return max_step[0], max_step[1].excluded, max_step[1].timings


def clickhouse_window_funnel(seq: list[Ev], spec: FunnelSpec) -> int:
    """Return ClickHouse's ``windowFunnel(window)(t, cond1, …, condN)`` level for ``seq``.

    A transcription of ``getEventLevelNonStrictOnce``: one item per (event, condition), sorted by
    (time, condition); ``strict_increase`` compares with the previous level's last time.
    """
    window = spec.window_s * 1_000_000
    n = spec.n
    items = sorted((ev.t, k) for ev in seq for k in range(1, n + 1) if ev.m[k])
    slots: list[tuple[int, int] | None] = [None] * n
    for t, k in items:
        idx = k - 1
        if idx == 0:
            slots[0] = (t, t)
        elif slots[idx - 1] is not None:
            first, last = slots[idx - 1]  # type: ignore[misc]
            ok = t <= first + window and (not spec.strict_increase or last < t)
            if ok:
                slots[idx] = (first, t)
                if idx + 1 == n:
                    return n
    return max((i + 1 for i, s in enumerate(slots) if s is not None), default=0)


def by_unit(rows: Sequence[Row], spec: FunnelSpec) -> dict[Any, list[Ev]]:
    """Return each unit's sequence (for the peer transcriptions)."""
    units: dict[Any, list[Row]] = defaultdict(list)
    for row in rows:
        if row.get(spec.unit) is not None and row.get("timestamp") is not None:
            units[row[spec.unit]].append(row)
    return {u: sequence(r, spec) for u, r in units.items()}
