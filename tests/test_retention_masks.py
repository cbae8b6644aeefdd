"""The bit-mask retention plan (engine/cohorts/masks.py) gives the same parts as retention_query.

Differential: random small event logs (start and return events, --since/--until, day and week
periods), every part compared row for row with the unit-period plan; and the cases it must leave
to that plan (a range wider than 62 periods, a breakdown, cumulative or first-time cohorts).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from cjkit.engine.cohorts import masks
from cjkit.engine.cohorts import retention as ret
from cjkit.engine.matchers import Matcher

T0 = datetime(2025, 3, 1, tzinfo=UTC)
EVENTS = ("visit", "buy", "other")


def _frame(rows: list[tuple[int, int, int]]) -> pl.LazyFrame:
    return pl.LazyFrame(
        {
            "user_id": [f"u{u}" for u, _, _ in rows],
            "event": [EVENTS[e] for _, e, _ in rows],
            "timestamp": [T0 + timedelta(hours=h) for _, _, h in rows],
        },
        schema={"user_id": pl.String, "event": pl.String, "timestamp": pl.Datetime("us", "UTC")},
    )


def _parts(query: dict[str, pl.LazyFrame]) -> dict[str, pl.DataFrame]:
    return ret.unpack(ret.pack(query).collect())


def _equal(a: pl.DataFrame, b: pl.DataFrame) -> bool:
    key = a.columns[0]
    return a.sort(key).equals(b.select(a.columns).sort(key))


rows_st = st.lists(
    st.tuples(st.integers(0, 12), st.integers(0, 2), st.integers(0, 24 * 60)),
    min_size=1,
    max_size=80,
)


@settings(max_examples=60, deadline=None)
@given(
    rows=rows_st,
    period=st.sampled_from(["day", "week"]),
    start=st.sampled_from([None, "visit"]),
    returns=st.sampled_from([None, "buy"]),
    periods=st.integers(1, 10),
    since_h=st.one_of(st.none(), st.integers(0, 24 * 30)),
    until_h=st.one_of(st.none(), st.integers(24 * 20, 24 * 60)),
)
def test_mask_plan_equals_unit_period_plan(
    rows: list[tuple[int, int, int]],
    period: str,
    start: str | None,
    returns: str | None,
    periods: int,
    since_h: int | None,
    until_h: int | None,
) -> None:
    spec = ret.RetentionSpec(
        start=None if start is None else (Matcher(start),),
        returns=None if returns is None else (Matcher(returns),),
        period=period,  # type: ignore[arg-type]
        periods=periods,
        since=None if since_h is None else T0 + timedelta(hours=since_h),
        until=None if until_h is None else T0 + timedelta(hours=until_h),
    )
    lf = _frame(rows)
    span = masks.period_span(lf, spec).collect().row(0)
    if not masks.applies(spec, span):
        assert span[0] is None or span[1] - span[0] + 1 > masks.MAX_SPAN
        return
    want = _parts(ret.retention_query(lf, spec))
    got = _parts(masks.mask_query(lf, spec, span[0], span[1] - span[0] + 1))
    for name in ("bounds", "cells", "churn"):
        assert want[name].schema == got[name].schema, name
        assert _equal(want[name], got[name]), name


def test_hand_computed_cells() -> None:
    # T0 is a Saturday: m (48 h later) is Monday 2025-03-03, the start of week 0.
    # u0 is active in weeks 0, 1, 3; u1 in weeks 0 and 2.
    m, week = 48, 24 * 7
    u0 = [(0, 0, m + 1), (0, 0, m + week + 1), (0, 0, m + 3 * week + 1)]
    u1 = [(1, 0, m + 2), (1, 0, m + 2 * week)]
    lf = _frame([*u0, *u1])
    spec = ret.RetentionSpec(period="week", periods=3)
    lo, hi = masks.period_span(lf, spec).collect().row(0)
    parts = _parts(masks.mask_query(lf, spec, lo, hi - lo + 1))
    cells = parts["cells"].sort("c")
    # Week 0: both (u0 back in 1 and 3, u1 in 2); week 1: u0 (back in 3); week 2: u1; week 3: u0.
    expected = [(2, 1, 1, 1), (1, 0, 1, 0), (1, 0, 0, 0), (1, 0, 0, 0)]
    assert cells.select("n0", "n1", "n2", "n3").rows() == expected


def test_cases_left_to_the_unit_period_plan() -> None:
    plain = ret.RetentionSpec(period="day")
    assert masks.applies(plain, (100, 161))
    assert not masks.applies(plain, (100, 162))
    assert not masks.applies(plain, (None, None))
    for spec in (
        ret.RetentionSpec(by=("channel",)),
        ret.RetentionSpec(cumulative=True),
        ret.RetentionSpec(cohort="first-time"),
    ):
        assert not masks.applies(spec, (0, 5))
