"""Money sums (engine/money.py): exact in integer micro-units, rounded once to the nearest double,
whatever the row order and whether Polars sums them in a select or a group-by after a join."""

from __future__ import annotations

from fractions import Fraction

import polars as pl
from budget import budget
from hypothesis import given, settings
from hypothesis import strategies as st

from cjkit.engine.money import money_sum

SHOP = "examples/shop/events.parquet"


def _nearest(cents: list[int]) -> float:
    # The correctly rounded double of the exact total (Fraction -> float rounds to nearest).
    return float(Fraction(sum(cents), 100))


def test_by_hand() -> None:
    frame = pl.DataFrame({"x": [0.1, 0.1, 0.1]})
    assert sum([0.1, 0.1, 0.1]) == 0.30000000000000004  # what a float sum gives
    assert frame.select(money_sum("x")).item() == 0.3
    refunds = pl.DataFrame({"x": [10.25, -20.5, 0.01]})
    assert refunds.select(money_sum("x")).item() == -10.24


def test_the_shop_revenue_after_a_join_is_the_rounded_total() -> None:
    # The case that was 1 ulp off (230710.53999999998): per-unit sums joined to the units, then
    # summed per currency inside a group-by.
    purchases = pl.read_parquet(SHOP).filter(pl.col("event") == "purchase")
    per_unit = purchases.group_by("user_id", "currency").agg(money_sum("amount").alias("r"))
    units = per_unit.select("user_id").unique()
    totals = dict(
        per_unit.join(units, on="user_id").group_by("currency").agg(money_sum("r")).iter_rows()
    )
    assert totals == {"EUR": 230710.54, "USD": 829491.43}


amounts = st.lists(st.integers(-(10**9), 10**9), min_size=1, max_size=60)


@settings(max_examples=budget(0.5), deadline=None)
@given(amounts, st.randoms(use_true_random=False))
def test_the_sum_is_the_nearest_double_in_any_order_and_context(
    cents: list[int], rnd: object
) -> None:
    want = _nearest(cents)
    values = [c / 100 for c in cents]
    shuffled = list(values)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    for xs in (values, shuffled):
        frame = pl.DataFrame({"k": ["a"] * len(xs), "u": [str(i) for i in range(len(xs))], "x": xs})
        assert frame.select(money_sum("x")).item() == want
        joined = frame.join(frame.select("u"), on="u").group_by("k").agg(money_sum("x"))
        assert joined["x"][0] == want
