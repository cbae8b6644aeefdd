"""Revenue stages: revenue, paying units, ARPU, ARPPU, AOV, purchase frequency, LTV, LTV:CAC.

Over the population P (units with a first-stage event in the range), counting the stage's
events in the range:

* ``revenue`` = Σ amount. Refunds are negative amounts: a refund event counts when the stage's
  events match it (``events: [purchase, refund]``), and any matching event with a negative
  amount lowers revenue. Events without an amount add nothing.
* ``paying_units`` = units whose net amount (in some currency) is positive.
* An *order* is a matching event with amount ≥ 0: ``orders`` = distinct ``order_id`` values of
  those events when the stage names ``order_id`` (a refund on the same order never adds an
  order; events without an id count one each), else the number of such events.
* ``arpu`` = revenue / |P|; ``arppu`` = revenue / paying units; ``aov`` = revenue / orders;
  ``purchase_frequency`` = orders / paying units; ``conversion_to_paid`` = acquired paying units /
  acquired units; ``ltv`` = revenue of acquired units from their acquisition on / acquired units;
  ``ltv_cac`` = ltv / cac.

Currency: when the stage names a ``currency`` property, every money metric (revenue, arpu,
arppu, aov, ltv, ltv_cac) is an object keyed by currency and amounts are never summed across
currencies; without it, money metrics are plain numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import polars as pl

from cjkit.canonical import ONE_US, TIME, USER
from cjkit.engine import periods as per
from cjkit.engine.metrics import predict as predict_section
from cjkit.engine.metrics.base import (
    ACQ,
    ACQUIRED,
    ALL,
    IN,
    Context,
    KindResult,
    StagePlan,
    as_float,
    as_int,
    grouped,
    optional_column,
    required_number,
)
from cjkit.engine.metrics.kinds import KindEngine, PlanArgs, QueryInput
from cjkit.engine.money import money_sum
from cjkit.engine.stats import ci_dict, ratio

if TYPE_CHECKING:
    from cjkit.engine.metrics.plan import MetricsPlan
    from cjkit.engine.metrics.summary import View

CUR = "currency"
NO_CURRENCY = "(none)"  # the key of amounts whose currency property is null
MONEY = ("revenue", "arpu", "arppu", "aov", "ltv", "ltv_cac")
MAX_LTV_PERIODS = 36


def _amount(plan: StagePlan) -> pl.Expr:
    assert plan.amount is not None
    return pl.col(plan.amount).cast(pl.Float64)


def _currency(plan: StagePlan) -> pl.Expr:
    if plan.currency is None:
        return pl.lit(None, pl.String).alias(CUR)
    return pl.col(plan.currency).cast(pl.String).fill_null(NO_CURRENCY).alias(CUR)


def _orders(plan: StagePlan) -> pl.Expr:
    is_order = _amount(plan) >= 0
    if plan.order_id is None:
        return is_order.sum().cast(pl.Int64)
    oid = pl.col(plan.order_id)
    with_id = oid.filter(is_order & oid.is_not_null()).n_unique().cast(pl.Int64)
    return with_id + (is_order & oid.is_null()).sum().cast(pl.Int64)


def money_query(events: pl.LazyFrame, plan: StagePlan, acquired: pl.LazyFrame) -> pl.LazyFrame:
    """Return one row per (unit, currency): revenue, orders and revenue since acquisition.

    ``events`` carries the per-event ``__in`` (in range) column; ``acquired`` has each unit's
    acquisition time ``__acq``.
    """
    amount = _amount(plan)
    return (
        events.filter(pl.col(plan.flag) & pl.col(IN))
        .join(acquired, on=USER, how="left")
        .with_columns(_currency(plan))
        .group_by(USER, CUR)
        .agg(
            money_sum(amount).alias("revenue"),
            _orders(plan).alias("orders"),
            money_sum(amount.filter(pl.col(TIME) >= pl.col(ACQ))).alias("ltv_revenue"),
        )
    )


def ltv_query(
    events: pl.LazyFrame, plan: StagePlan, ctx: Context, acquired: pl.LazyFrame
) -> pl.LazyFrame:
    """Return revenue per (currency, acquisition period c, periods since acquisition k).

    Only acquired units (acquisition in the range) and their events from acquisition on count.
    """
    acq = pl.col(ACQ)
    c = per.period_index(acq, ctx.period, ctx.tz, ctx.week_start)
    p = per.period_index(pl.col(TIME), ctx.period, ctx.tz, ctx.week_start)
    return (
        events.filter(pl.col(plan.flag) & pl.col(IN))
        .join(acquired, on=USER, how="inner")
        .filter((pl.col(TIME) >= acq) & ctx.in_range(acq))
        .with_columns(_currency(plan), c.alias("c"), (p - c).alias("k"))
        .group_by(CUR, "c", "k")
        .agg(money_sum(_amount(plan)).alias("revenue"))
    )


def currencies(money: pl.DataFrame, plan: StagePlan) -> list[str | None]:
    """Return the currency keys to report: sorted, ``(none)`` last; ``[None]`` without currency."""
    if plan.currency is None:
        return [None]
    values = [v for v in money[CUR].unique().to_list() if v is not None]
    return sorted(v for v in values if v != NO_CURRENCY) + (
        [NO_CURRENCY] if NO_CURRENCY in values else []
    )


def with_paying(units: pl.DataFrame, money: pl.DataFrame) -> pl.DataFrame:
    """Return ``units`` with ``__paying`` (net positive in some currency) and ``__orders``."""
    per_unit = money.group_by(USER).agg(
        (pl.col("revenue") > 0).any().alias("__paying"), pl.col("orders").sum().alias("__orders")
    )
    return units.join(per_unit, on=USER, how="left").with_columns(
        pl.col("__paying").fill_null(value=False), pl.col("__orders").fill_null(0)
    )


def _value(per_currency: dict[str | None, float | None], keys: list[str | None]) -> Any:
    if keys == [None]:
        return per_currency.get(None)
    return {k: per_currency.get(k) for k in keys}


def summarize(
    units: pl.DataFrame,
    money: pl.DataFrame,
    plan: StagePlan,
    key: str | None,
    *,
    keys: list[str | None],
    cac: dict[Any, float | None] | None = None,
) -> dict[Any, KindResult]:
    """Return the revenue metrics for the population or per group of ``key``.

    ``units`` is the population with ``__paying`` and ``__orders`` (:func:`with_paying`);
    ``money`` the rows of :func:`money_query` for those units; ``keys`` the currencies to
    report; ``cac`` the acquisition stage's CAC per group value, for LTV:CAC.
    """
    unit_exprs = [
        pl.len().alias("population"),
        pl.col(ACQUIRED).sum().alias("acquired"),
        pl.col("__paying").sum().alias("paying"),
        (pl.col(ACQUIRED) & pl.col("__paying")).sum().alias("paying_acquired"),
        pl.col("__orders").sum().alias("orders"),
    ]
    cols = [USER, ACQUIRED] + ([key] if key else [])
    joined = money.join(units.select(cols), on=USER, how="inner")
    money_exprs = [
        money_sum("revenue").alias("revenue"),
        pl.col("orders").sum().alias("orders"),
        (pl.col("revenue") > 0).sum().alias("paying"),
        money_sum(pl.col("ltv_revenue").filter(pl.col(ACQUIRED))).alias("ltv_revenue"),
    ]
    by_currency: dict[Any, dict[str | None, dict[str, Any]]] = {}
    group_keys = [key, CUR] if key else [CUR]
    for row in joined.group_by(group_keys).agg(money_exprs).iter_rows(named=True):
        by_currency.setdefault(row[key] if key else ALL, {})[row[CUR]] = row
    out: dict[Any, KindResult] = {}
    for value, row in grouped(units, key, unit_exprs):
        cells = by_currency.get(value, {})
        out[value] = _result(row, cells, keys, (cac or {}).get(value))
    return out


def _result(
    row: dict[str, Any],
    cells: dict[str | None, dict[str, Any]],
    keys: list[str | None],
    cac: float | None,
) -> KindResult:
    n, acquired = as_int(row["population"]), as_int(row["acquired"])
    paying, paying_acquired = as_int(row["paying"]), as_int(row["paying_acquired"])
    orders = as_int(row["orders"])
    money: dict[str, dict[str | None, float | None]] = {m: {} for m in MONEY}
    detail_rows = []
    for cur in keys:
        cell = cells.get(cur, {})
        revenue = as_float(cell.get("revenue")) or 0.0
        cur_orders, cur_paying = as_int(cell.get("orders")), as_int(cell.get("paying"))
        ltv = ratio(as_float(cell.get("ltv_revenue")) or 0.0, acquired)
        money["revenue"][cur] = revenue
        money["arpu"][cur] = ratio(revenue, n)
        money["arppu"][cur] = ratio(revenue, cur_paying)
        money["aov"][cur] = ratio(revenue, cur_orders)
        money["ltv"][cur] = ltv
        # Spend carries no currency: LTV:CAC is given only when revenue has one currency.
        money["ltv_cac"][cur] = ratio(ltv, cac) if len(keys) == 1 else None
        detail_rows.append(
            {"currency": cur, "revenue": revenue, "orders": cur_orders, "paying_units": cur_paying}
        )
    metrics: dict[str, Any] = {
        "revenue": _value(money["revenue"], keys),
        "paying_units": paying,
        "conversion_to_paid": ratio(paying_acquired, acquired),
        "arpu": _value(money["arpu"], keys),
        "arppu": _value(money["arppu"], keys),
        "aov": _value(money["aov"], keys),
        "purchase_frequency": ratio(orders, paying),
        "ltv": _value(money["ltv"], keys),
        "ltv_cac": _value(money["ltv_cac"], keys),
    }
    detail: dict[str, Any] = {
        "population": n,
        "acquired": acquired,
        "orders": orders,
        "currencies": [k for k in keys if k is not None],
    }
    if keys != [None]:
        detail["by_currency"] = detail_rows
    return KindResult(
        metrics=metrics,
        ci={"conversion_to_paid": ci_dict(paying_acquired, acquired)},
        detail=detail,
    )


def ltv_table(
    cells: pl.DataFrame,
    sizes: pl.DataFrame,
    keys: list[str | None],
    *,
    end: int,
    last: int,
    ctx: Context,
) -> list[dict[str, Any]]:
    """Return the LTV-by-acquisition-cohort table, one entry per currency.

    ``cells`` are :func:`ltv_query` rows, ``sizes`` has ``c`` (cohort period) and ``size``.
    ``values[k]`` is the cumulative revenue per cohort member through period ``c + k``; a cell is
    complete when that period ended by the observation end (periods ``< end``); ``last`` is the
    last observed period. The ``average`` pools complete cells, weighted by cohort size.
    """
    if sizes.height == 0:
        return []
    first = int(sizes["c"].min())  # type: ignore[arg-type]
    horizon = max(0, min(MAX_LTV_PERIODS, last - first))
    ks = pl.DataFrame({"k": list(range(horizon + 1))}, schema={"k": pl.Int32})
    out = []
    for cur in keys:
        mine = cells.filter(pl.col(CUR).is_null() if cur is None else pl.col(CUR) == cur).select(
            "c", "k", "revenue"
        )
        grid = (
            sizes.join(ks, how="cross")
            .join(mine, on=["c", "k"], how="left")
            .with_columns(pl.col("revenue").fill_null(0.0))
            .sort("c", "k")
            .with_columns(pl.col("revenue").cum_sum().over("c").alias("cum"))
            .with_columns(
                (pl.col("c") + pl.col("k") < end).alias("complete"),
                (pl.col("c") + pl.col("k") <= last).alias("observed"),
            )
        )
        cohorts = []
        for c, part in grid.group_by("c", maintain_order=True):
            size = int(part["size"][0])
            observed = part.filter(pl.col("observed"))
            cohorts.append(
                {
                    "cohort": per.start_date(int(c[0]), ctx.period, ctx.week_start).isoformat(),
                    "size": size,
                    "values": [ratio(v, size) for v in observed["cum"].to_list()],
                    "complete": observed["complete"].to_list(),
                }
            )
        avg = (
            grid.filter(pl.col("complete"))
            .group_by("k")
            .agg(money_sum("cum").alias("cum"), pl.col("size").sum())
        )
        avg_map = {int(r["k"]): ratio(r["cum"], r["size"]) for r in avg.iter_rows(named=True)}
        out.append(
            {
                "currency": cur,
                "period": ctx.period,
                "cohorts": cohorts,
                "average": [avg_map.get(k) for k in range(horizon + 1)],
            }
        )
    return out


class Revenue(KindEngine):
    """The revenue kind's hooks. Summarized after acquisition (``order``), whose CAC gives
    LTV:CAC."""

    order = 1

    def plan(
        self, base: StagePlan, columns: Mapping[str, pl.DataType], args: PlanArgs
    ) -> StagePlan:
        """Return the stage with its amount (required, numeric), currency and order id."""
        stage = base.stage
        amount = required_number(stage, "amount", stage.amount or "amount", columns)
        currency, n1 = optional_column(
            "currency", stage.currency, columns, "all amounts are taken as one currency"
        )
        order_id, n2 = optional_column(
            "order_id", stage.order_id, columns, "each purchase event is one order"
        )
        predict_section.check(base)
        return replace(
            base, amount=amount, currency=currency, order_id=order_id, notes=tuple(n1 + n2)
        )

    def columns(self, plan: StagePlan) -> list[str]:
        """Return the amount, currency and order id columns."""
        return [c for c in (plan.amount, plan.currency, plan.order_id) if c is not None]

    def queries(self, q: QueryInput, plan: StagePlan) -> dict[str, pl.LazyFrame]:
        """Return the per-(unit, currency) money table and the LTV cells (and, with
        ``predict:``, the per-(unit, currency, day) purchase totals)."""
        out = {
            f"money:{plan.id}": money_query(q.events, plan, q.acquired),
            f"ltv:{plan.id}": ltv_query(q.events, plan, q.plan.ctx, q.acquired),
        }
        if predict_section.spec_of(plan) is not None:
            days = predict_section.query(q.events, plan, _currency(plan), q.plan.ctx.tz)
            out[predict_section.table(plan)] = days
        return out

    def combine(
        self, plan: StagePlan, mplan: MetricsPlan, parts: Sequence[Mapping[str, pl.DataFrame]]
    ) -> dict[str, pl.DataFrame]:
        """Return the LTV cells of passes over disjoint sets of units, added up (exact
        six-decimal sums); the money table is per (unit, currency) rows."""
        name = f"ltv:{plan.id}"
        cells = pl.concat([part[name] for part in parts])
        return {name: cells.group_by(CUR, "c", "k").agg(money_sum("revenue").alias("revenue"))}

    def _money(self, view: View, plan: StagePlan) -> tuple[pl.DataFrame, list[str | None]]:
        def make() -> tuple[pl.DataFrame, list[str | None]]:
            money = view.frames[f"money:{plan.id}"].join(view.pop.select(USER), on=USER, how="semi")
            return money, currencies(money, plan)

        found: tuple[pl.DataFrame, list[str | None]] = view.memo(plan.id, make)
        return found

    def summarize(
        self, view: View, plan: StagePlan, segment: int | None, earlier: Mapping[str, Any]
    ) -> dict[Any, KindResult]:
        """Return the revenue metrics per group, with the first acquisition stage's CAC."""
        money, keys = self._money(view, plan)
        cac: dict[Any, float | None] = {}
        first = next((s for s in view.plan.stages if s.kind == "acquisition"), None)
        if first is not None and first.id in earlier:
            cac = {v: r.metrics["cac"] for v, r in earlier[first.id].items()}
        out = summarize(
            with_paying(view.pop, money),
            money,
            plan,
            view.group(segment)[0],
            keys=keys,
            cac=cac,
        )
        if segment is None and predict_section.spec_of(plan) is not None:
            out[ALL].metrics[predict_section.METRIC] = self._predicted(view, plan)[0]
        return out

    def _predicted(self, view: View, plan: StagePlan) -> tuple[Any, list[str]]:
        """Return the ``predict:`` section over the population and its warnings (fitted once)."""
        keys = self._money(view, plan)[1]
        found: tuple[Any, list[str]] = view.memo(
            f"predict:{plan.id}", lambda: predict_section.section(view, plan, keys)
        )
        return found

    def notes(self, view: View, plan: StagePlan) -> list[str]:
        """Return a note when units outside the population have amounts in the range."""
        fit = self._predicted(view, plan)[1] if predict_section.spec_of(plan) is not None else []
        outside = view.frames[f"money:{plan.id}"].join(view.pop.select(USER), on=USER, how="anti")
        if outside.height == 0:
            return fit
        sums = outside.group_by(CUR).agg(pl.col("revenue").sum()).sort(CUR)
        amounts = ", ".join(
            f"{cur + ' ' if cur else ''}{value:,.2f}" for cur, value in sums.iter_rows()
        )
        first = view.plan.stages[0].stage.name
        units = outside[USER].n_unique()
        return [
            f"{units:,} unit(s) with no {first} event in the range have amounts here "
            f"({amounts}); they are outside the population and not counted",
            *fit,
        ]

    def tables(self, view: View, plan: StagePlan) -> dict[str, Any]:
        """Return LTV by acquisition cohort (nothing when the observation end is unknown)."""
        ctx = view.ctx
        observed = ctx.until or view.span.end
        if observed is None:
            return {}
        sizes = (
            view.pop.filter(pl.col(ACQUIRED))
            .group_by(per.period_index(pl.col(ACQ), ctx.period, ctx.tz, ctx.week_start).alias("c"))
            .agg(pl.len().cast(pl.Int64).alias("size"))
            .sort("c")
        )
        return {
            "ltv_by_cohort": ltv_table(
                view.frames[f"ltv:{plan.id}"],
                sizes,
                self._money(view, plan)[1],
                end=per.index_of(observed + ONE_US, ctx.period, ctx.tz, ctx.week_start),
                last=per.index_of(observed, ctx.period, ctx.tz, ctx.week_start),
                ctx=ctx,
            )
        }


ENGINE = Revenue()
