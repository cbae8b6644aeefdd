"""The engine against the reference state machine, on random small event logs (hypothesis).

Every order mode × window anchor × event reuse × strict increase, with and without exclusion
steps: the vectorized engine (``cjkit.engine.journeys``) and the plain per-unit reference
(``tests/funnel_reference.py``) must agree exactly on each unit's furthest step, exclusion,
step times and breakdown value, and on the step counts and times to convert.

Logs are drawn from a few users, the step names plus noise and an exclusion event, integer
seconds in a short span (so many events share a timestamp), random windows, OR-group and
property-filter steps, repeated steps, first-time steps and date ranges. Where a peer's own
algorithm applies, the reference is also held to its transcription: PostHog's ``steps.rs`` for
ordered and strict funnels, ClickHouse's ``windowFunnel`` for event reuse.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import funnel_reference as ref
import polars as pl
import pytest
from budget import budget
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cjkit.engine.funnel import summary as funnel_engine
from cjkit.engine.funnel.journeys import Exclusion, FunnelSpec, Step, journeys
from cjkit.engine.matchers import parse_cli_step

T0 = datetime(2025, 3, 1, tzinfo=UTC)
EXAMPLES = budget(1.5)
# Property tests against the reference: the bulk of the suite's time under the ci profile.
pytestmark = pytest.mark.slow
STEP_TEXTS = ["a", "b", "c", "a|b", "b|c", "a[k=1]", "b[k!=1]", "c[k=0]"]
# Step events dominate; "x" is the usual exclusion event, "noise" matches nothing (or is one).
EVENTS = ["a", "a", "b", "b", "c", "c", "x", "noise"]

# (order, anchor, allow_event_reuse, strict_increase): every combination cjkit accepts.
MODES = [
    (order, anchor, reuse, inc)
    for order in ("ordered", "strict", "any")
    for anchor in ("latest", "first")
    for reuse in (False, True)
    for inc in (False, True)
    if not (order != "ordered" and reuse) and not (order == "any" and (anchor == "first" or inc))
]


def _mode_id(mode: tuple[str, str, bool, bool]) -> str:
    order, anchor, reuse, inc = mode
    return f"{order}-{anchor}" + ("-reuse" if reuse else "") + ("-increase" if inc else "")


@st.composite
def logs(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Return canonical events of 1–3 users: user_id, event, timestamp, properties k and g."""
    rows: list[dict[str, Any]] = []
    for user in range(1, draw(st.integers(1, 3)) + 1):
        events = draw(
            st.lists(
                st.tuples(
                    st.sampled_from(EVENTS),
                    st.integers(0, 14),
                    st.sampled_from([0, 1, None]),
                    st.sampled_from(["p", "q", None]),
                ),
                min_size=2,
                max_size=12,
            )
        )
        rows += [
            {"user_id": user, "event": e, "timestamp": T0 + timedelta(seconds=s), "k": k, "g": g}
            for e, s, k, g in events
        ]
    return rows


@st.composite
def specs(draw: st.DrawFn, mode: tuple[str, str, bool, bool], *, exclusions: bool) -> FunnelSpec:
    """Return a random funnel of 2–4 steps in ``mode``."""
    order, anchor, reuse, inc = mode
    n = draw(st.integers(2, 4))
    texts = draw(st.lists(st.sampled_from(STEP_TEXTS), min_size=n, max_size=n))
    first_time = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    steps = tuple(
        Step(text, tuple(parse_cli_step(text)), first_time=ft and draw(st.booleans()))
        for text, ft in zip(texts, first_time, strict=True)
    )
    excl: tuple[Exclusion, ...] = ()
    if exclusions:
        count = draw(st.integers(1, 2))
        for _ in range(count):
            if order == "any":
                a, b = 1, n
            else:
                a = draw(st.integers(1, n - 1))
                b = draw(st.integers(a + 1, n))
            text = draw(st.sampled_from(["x", "x", "noise", "x[k=1]"]))
            excl += (Exclusion(tuple(parse_cli_step(text)), a, b, label=text),)
    since = until = None
    if draw(st.booleans()):
        lo = draw(st.integers(0, 10))
        since = T0 + timedelta(seconds=lo)
        if draw(st.booleans()):
            until = since + timedelta(seconds=draw(st.integers(0, 6)))
    attribution = draw(st.sampled_from(["first", "last", *range(1, n + 1)]))
    return FunnelSpec(
        steps=steps,
        window_s=draw(st.integers(1, 12)),
        order=order,  # type: ignore[arg-type]
        anchor=anchor,  # type: ignore[arg-type]
        allow_event_reuse=reuse,
        strict_increase=inc,
        exclusions=excl,
        since=since,
        until=until,
        by=("g",) if draw(st.booleans()) else (),
        attribution=attribution,
    )


def _frame(rows: list[dict[str, Any]]) -> pl.LazyFrame:
    """Return the rows as canonical events (typed even where a property is all null)."""
    types: dict[str, pl.DataType] = {
        "user_id": pl.Int64(),
        "event": pl.String(),
        "timestamp": pl.Datetime("us", "UTC"),
        "k": pl.Int64(),
        "g": pl.String(),
        "channel": pl.String(),
    }
    if rows and isinstance(rows[0]["user_id"], str):
        types["user_id"] = pl.String()
    names = list(rows[0]) if rows else ["user_id", "event", "timestamp", "k", "g"]
    return pl.DataFrame(rows, schema={c: types[c] for c in names}).lazy()


def engine_units(rows: list[dict[str, Any]], spec: FunnelSpec) -> dict[Any, ref.UnitResult]:
    """Return the engine's journey table in the reference's shape."""
    table = journeys(_frame(rows), spec).collect()
    out: dict[Any, ref.UnitResult] = {}
    for r in table.iter_rows(named=True):
        times = tuple(r[f"t_{k}"] for k in range(1, spec.n + 1))
        out[r["unit"]] = ref.UnitResult(
            r["level"], r["excluded"], times, tuple(r[c] for c in spec.by)
        )
    return out


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def check(rows: list[dict[str, Any]], spec: FunnelSpec) -> None:
    """Assert engine == reference per unit and for the funnel numbers."""
    want = ref.reference(rows, spec)
    got = engine_units(rows, spec)
    assert got == want, _diff(got, want)
    table = journeys(_frame(rows), spec).collect()
    report = funnel_engine.summarize(table, spec, {})
    numbers = ref.summarize(want, spec.n)
    for step, expect in zip(report.steps, numbers, strict=True):
        assert step.count == expect.count
        ttc = step.time_to_convert
        if expect.mean_s is None:
            assert ttc is None
        else:
            assert ttc is not None
            assert _close(ttc.mean_s, expect.mean_s)
            assert _close(ttc.median_s, expect.median_s)
            assert _close(ttc.p90_s, expect.p90_s)


def _diff(got: dict[Any, ref.UnitResult], want: dict[Any, ref.UnitResult]) -> str:
    lines = []
    for unit in sorted(set(got) | set(want)):
        if got.get(unit) != want.get(unit):
            lines.append(f"unit {unit}: engine {got.get(unit)} != reference {want.get(unit)}")
    return "\n".join(lines)


SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.parametrize("mode", MODES, ids=_mode_id)
@SETTINGS
@given(data=st.data())
def test_engine_matches_reference(mode: tuple[str, str, bool, bool], data: st.DataObject) -> None:
    rows = data.draw(logs())
    spec = data.draw(specs(mode, exclusions=False))
    check(rows, spec)


@pytest.mark.parametrize("mode", MODES, ids=_mode_id)
@SETTINGS
@given(data=st.data())
def test_engine_matches_reference_with_exclusions(
    mode: tuple[str, str, bool, bool], data: st.DataObject
) -> None:
    rows = data.draw(logs())
    spec = data.draw(specs(mode, exclusions=True))
    check(rows, spec)


# --- the reference against the peers' own algorithms ---------------------------------------


@pytest.mark.parametrize("order", ["ordered", "strict"])
@SETTINGS
@given(data=st.data())
def test_reference_is_posthog_steps_rs(order: str, data: st.DataObject) -> None:
    """PostHog's path bookkeeping (one path per step, overwritten by newer starts) gives the
    same furthest step, exclusion and step times as the reference's attempts-and-merges."""
    rows = data.draw(logs())
    spec = data.draw(specs((order, "latest", False, False), exclusions=order == "ordered"))
    # PostHog clips every event to the date range; its strict exclusions only reach live paths.
    spec = replace(spec, since=None, until=None)
    want = ref.reference(rows, spec)
    for unit, seq in ref.by_unit(rows, spec).items():
        level, excluded, timings = ref.posthog_steps(seq, spec)
        if unit not in want:
            assert level == 0
            continue
        res = want[unit]
        assert (level, excluded) == (res.level, res.excluded), unit
        if not excluded:
            assert tuple(timings) == res.times[: res.level], unit


@pytest.mark.parametrize("order", ["ordered", "strict"])
@SETTINGS
@given(data=st.data())
def test_reference_is_posthog_where_no_moment_mixes_steps(order: str, data: st.DataObject) -> None:
    """PostHog to the letter — its own handling of events that share a timestamp included —
    agrees with the reference whenever no timestamp of a unit mixes events of different steps
    (the only place the two orders of events can differ; see docs/metrics.md)."""
    rows = data.draw(logs())
    spec = data.draw(specs((order, "latest", False, False), exclusions=order == "ordered"))
    spec = replace(spec, since=None, until=None)
    want = ref.reference(rows, spec)
    for unit, seq in ref.by_unit(rows, spec).items():
        if not all(ev.uniform for ev in seq):
            continue
        level, excluded, timings = ref.posthog_steps(seq, spec, groups=True)
        res = want.get(unit)
        assert (level, excluded) == ((res.level, res.excluded) if res else (0, False)), unit
        if res and not excluded:
            assert tuple(timings) == res.times[: res.level], unit


@pytest.mark.parametrize("strict_increase", [False, True], ids=["ties", "increase"])
@SETTINGS
@given(data=st.data())
def test_reference_is_clickhouse_window_funnel(strict_increase: bool, data: st.DataObject) -> None:
    """With event reuse, every unit's furthest step is ClickHouse's ``windowFunnel`` level.

    With ``strict_increase`` ClickHouse keeps one slot per level, so a newer step 1 at the time
    of the next step hides an older start that could use it; cjkit keeps both attempts (as
    ClickHouse's ``strict_once`` mode does) and may go further, never less far.
    """
    rows = data.draw(logs())
    spec = data.draw(specs(("ordered", "latest", True, strict_increase), exclusions=False))
    spec = replace(spec, since=None, until=None)
    want = ref.reference(rows, spec)
    for unit, seq in ref.by_unit(rows, spec).items():
        level = ref.clickhouse_window_funnel(seq, spec)
        ours = want[unit].level if unit in want else 0
        if strict_increase:
            assert ours >= level, unit
        else:
            assert ours == level, unit


# --- real data -----------------------------------------------------------------------------

SHOP = Path(__file__).resolve().parents[1] / "examples" / "shop" / "events.parquet"


@pytest.fixture(scope="module")
def shop_rows() -> list[dict[str, Any]]:
    """Return every event of 400 users of the example shop (a fixed sample)."""
    events = pl.read_parquet(SHOP, columns=["user_id", "event", "timestamp", "channel"])
    users = events["user_id"].unique().sort().gather_every(125)
    return events.filter(pl.col("user_id").is_in(users.implode())).to_dicts()


@pytest.mark.skipif(not SHOP.exists(), reason="examples/shop/events.parquet is not there")
@pytest.mark.parametrize("mode", MODES, ids=_mode_id)
@pytest.mark.parametrize("exclude", [False, True], ids=["plain", "exclusions"])
def test_engine_matches_reference_on_the_example_shop(
    mode: tuple[str, str, bool, bool], exclude: bool, shop_rows: list[dict[str, Any]]
) -> None:
    order, anchor, reuse, inc = mode
    steps = ("visit", "product_view", "add_to_cart|product_view", "purchase")
    excl = (1, 4) if order == "any" else (2, 4)
    spec = FunnelSpec(
        steps=tuple(Step(s, tuple(parse_cli_step(s))) for s in steps),
        window_s=86400,
        order=order,  # type: ignore[arg-type]
        anchor=anchor,  # type: ignore[arg-type]
        allow_event_reuse=reuse,
        strict_increase=inc,
        exclusions=(Exclusion(tuple(parse_cli_step("support_ticket|refund")), *excl),)
        if exclude
        else (),
        since=datetime(2025, 2, 1, tzinfo=UTC),
        until=datetime(2025, 5, 31, tzinfo=UTC),
        by=("channel",),
    )
    check(shop_rows, spec)
