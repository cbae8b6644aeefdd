"""Stage-kind metrics (``cjkit metrics``) on hand-built events, with every value worked by hand.

The shared data set, four units over four Monday weeks (W1 = 2025-01-06, W2 = 01-13,
W3 = 01-20, W4 = 01-27; the data ends 2025-01-28 08:00, inside W4):

* u1 (paid): visits W1 and W2, onboards 1 day after acquisition, sends 2 invites, buys 100 USD
  on order o1 and is refunded 20 USD on o1, answers 10.
* u2 (organic): onboards the day BEFORE its first visit (must not count), buys 50 + 30 EUR on
  two orders, answers 6.
* u3 (paid): first visit W2, signs up with referrer_id u1, onboards 3 days after acquisition
  (outside the 2-day window), answers 8, buys 40 USD.
* u4 (organic): two visits in W4 only. W3 acquires nobody: the empty period.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cjkit import api as api_metrics
from cjkit.engine.stats import ci_dict
from cjkit.errors import InputError
from cjkit.report.metrics import MetricsReport, StageNumbers

EVENTS = """\
user_id,event,timestamp,channel,referrer_id,amount,currency,order_id,score
u1,visit,2025-01-06T10:00:00Z,paid,,,,,
u1,onboard,2025-01-07T10:00:00Z,,,,,,
u1,invite,2025-01-08T10:00:00Z,,,,,,
u1,invite,2025-01-08T11:00:00Z,,,,,,
u1,purchase,2025-01-09T10:00:00Z,,,100,USD,o1,
u1,refund,2025-01-10T10:00:00Z,,,-20,USD,o1,
u1,survey,2025-01-11T10:00:00Z,,,,,,10
u1,visit,2025-01-14T10:00:00Z,paid,,,,,
u2,onboard,2025-01-05T09:00:00Z,,,,,,
u2,visit,2025-01-06T12:00:00Z,organic,,,,,
u2,purchase,2025-01-08T12:00:00Z,,,50,EUR,o2,
u2,purchase,2025-01-20T12:00:00Z,,,30,EUR,o3,
u2,survey,2025-01-21T12:00:00Z,,,,,,6
u3,visit,2025-01-13T09:00:00Z,paid,,,,,
u3,signup,2025-01-13T09:05:00Z,paid,u1,,,,
u3,onboard,2025-01-16T09:00:00Z,,,,,,
u3,survey,2025-01-16T10:00:00Z,,,,,,8
u3,purchase,2025-01-16T11:00:00Z,,,40,USD,o4,
u4,visit,2025-01-27T08:00:00Z,organic,,,,,
u4,visit,2025-01-28T08:00:00Z,organic,,,,,
"""

MAP = """\
id: tiny
name: Tiny shop
settings: {window: 30d, period: week}
stages:
  - {id: acq, name: Acquisition, kind: acquisition, events: [visit], channel: channel}
  - {id: act, name: Activation, kind: activation, events: [onboard], within: 2d}
  - {id: ret, name: Retention, kind: retention, events: [visit], period: week, periods: 2}
  - {id: ref, name: Referral, kind: referral, events: [invite], referrer: referrer_id}
  - id: rev
    name: Revenue
    kind: revenue
    events: [purchase, refund]
    amount: amount
    currency: currency
    order_id: order_id
  - {id: sat, name: Satisfaction, kind: satisfaction, events: [survey], score: score}
"""

SPEND = """\
date,channel,amount
2025-01-06,paid,30
2025-01-14,paid,20
2025-01-21,paid,10
2025-01-27,email,5
2024-12-01,paid,999
"""

DAY = 86400.0


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    (tmp_path / "events.csv").write_text(EVENTS, encoding="utf-8")
    (tmp_path / "map.yaml").write_text(MAP, encoding="utf-8")
    (tmp_path / "spend.csv").write_text(SPEND, encoding="utf-8")
    return tmp_path


def run(folder: Path, **options: Any) -> MetricsReport:
    opts = api_metrics.MetricsOptions(model=str(folder / "map.yaml"), **options)
    return api_metrics.metrics([str(folder / "events.csv")], opts)


def stage(report: MetricsReport, stage_id: str) -> StageNumbers:
    found = report.stage(stage_id)
    assert found is not None
    return found.numbers


def test_population_and_funnel_numbers(tiny: Path) -> None:
    report = run(tiny)
    # Everyone visits, no range: P = acquired = {u1, u2, u3, u4}.
    assert report.population == {"units": 4, "acquired": 4, "first_stage": "acq"}
    # Ordered funnel visit → onboard → visit → invite → purchase|refund → survey, window 30d:
    # u1 visit 01-06 → onboard 01-07 → visit 01-14 (its invites are before) = level 3;
    # u3 visit → onboard 01-16 = level 2; u2 (onboard before visit) and u4 = level 1.
    counts = [s.numbers.count for s in report.stages]
    assert counts == [4, 2, 1, 0, 0, 0]
    assert [s.numbers.drop_off for s in report.stages] == [0, 2, 1, 1, 0, 0]
    act = stage(report, "act")
    assert act.conversion_from_previous == 0.5
    # Gaps 1 day (u1) and 3 days (u3): mean = median = 2 days, p90 = 1d + 0.9 × 2d.
    assert act.time_to_convert is not None
    assert act.time_to_convert.median_s == 2 * DAY
    assert act.time_to_convert.p90_s == pytest.approx(DAY + 0.9 * 2 * DAY)
    assert act.metrics["median_time_to_convert_s"] == 2 * DAY
    # Zero denominators: 0 of 0 units convert from referral to revenue.
    assert stage(report, "rev").conversion_from_previous is None
    assert stage(report, "ref").conversion_from_previous == 0.0
    assert act.ci["conversion_from_previous"] == ci_dict(2, 4)


def test_acquisition_new_units_channels_periods(tiny: Path) -> None:
    report = run(tiny)
    acq = report.stage("acq")
    assert acq is not None
    assert acq.numbers.metrics == {"median_time_to_convert_s": None, "new_units": 4, "cac": None}
    by_channel = {r["channel"]: r["new_units"] for r in acq.tables["by_channel"]}
    assert by_channel == {"organic": 2, "paid": 2}
    # Weeks from the data's first event (u2's onboard, Sunday 01-05 → week of 12-30) to W4;
    # W3 acquires nobody and still has its row.
    periods = [(r["period"], r["new_units"]) for r in acq.tables["by_period"]]
    assert periods == [
        ("2024-12-30", 0),
        ("2025-01-06", 2),
        ("2025-01-13", 1),
        ("2025-01-20", 0),
        ("2025-01-27", 1),
    ]


def test_cac_with_spend(tiny: Path) -> None:
    report = run(tiny, spend=str(tiny / "spend.csv"))
    acq = report.stage("acq")
    assert acq is not None
    # Spend on the data's dates (2025-01-05..01-28): 30 + 20 + 10 + 5 = 65; the 999 of
    # December is outside. Blended CAC = 65 / 4 new units.
    assert acq.numbers.metrics["cac"] == 65 / 4
    assert acq.numbers.detail["spend"] == 65.0
    channels = {r["channel"]: (r["spend"], r["cac"]) for r in acq.tables["by_channel"]}
    # paid: 60 / 2; organic has no spend rows (no CAC, not 0); email spent 5 on nobody.
    assert channels == {"paid": (60.0, 30.0), "organic": (None, None), "email": (5.0, None)}
    periods = {r["period"]: (r["spend"], r["cac"]) for r in acq.tables["by_period"]}
    assert periods["2025-01-06"] == (30.0, 15.0)
    assert periods["2025-01-13"] == (20.0, 20.0)
    assert periods["2025-01-20"] == (10.0, None)  # the empty period: spend, no new units
    assert periods["2025-01-27"] == (5.0, 5.0)
    assert periods["2024-12-30"] == (None, None)
    # Two currencies: LTV:CAC is not given (spend has no currency).
    assert stage(report, "rev").metrics["ltv_cac"] == {"EUR": None, "USD": None}


def test_activation_ignores_events_before_acquisition(tiny: Path) -> None:
    act = stage(run(tiny), "act")
    # Acquired 4. u1 onboards 1 day after its first visit (within 2d): activated. u2's
    # onboard is before its first visit, u3's is 3 days after, u4 never: rate 1/4.
    assert act.metrics["rate"] == 0.25
    assert act.metrics["median_time_to_activate_s"] == DAY
    assert act.metrics["p90_time_to_activate_s"] == DAY
    assert act.ci["rate"] == ci_dict(1, 4)
    assert act.detail == {"acquired": 4, "activated": 1, "within_s": 2 * DAY}


def test_retention_and_churn(tiny: Path) -> None:
    report = run(tiny)
    ret = stage(report, "ret")
    # Recurring weekly cohorts of visits: W1 {u1, u2}, W2 {u1, u3}, W4 {u4} (W4 incomplete).
    # Back in week 1: W1 → u1 (1 of 2), W2 → nobody in W3 (0 of 2): 1 / 4.
    # Week 2: only W1 is complete at k=2 (W3 ended): 0 of 2.
    assert ret.metrics["period_1"] == 0.25
    assert ret.metrics["period_2"] == 0.0
    # Churn over the complete weeks W1..W3: lost W2 = {u2}, W3 = {u1, u3}: 3; active at the
    # start of each: W1 0, W2 2, W3 2: 4. Return events per active unit: 4 visits / 4.
    assert ret.metrics["churn_rate"] == 0.75
    assert ret.ci["churn_rate"] == ci_dict(3, 4)
    assert ret.metrics["events_per_active_unit"] == 1.0
    assert ret.ci["period_1"] == ci_dict(1, 4)
    retention = report.to_dict()["retention"]
    assert retention["stage"] == "ret"
    assert [c["size"] for c in retention["cohorts"]] == [2, 2, 0, 1]


def test_referral(tiny: Path) -> None:
    ref = stage(run(tiny), "ref")
    # u1 sends 2 invites; P has 4 units; u3 signed up with referrer_id = u1.
    assert ref.metrics["referrer_share"] == 0.25
    assert ref.metrics["invites_per_unit"] == 0.5
    assert ref.metrics["referred_signups"] == 1
    assert ref.metrics["invite_conversion"] == 0.5
    assert ref.metrics["k_factor"] == 0.5 * 0.5
    assert ref.ci["referrer_share"] == ci_dict(1, 4)
    assert ref.ci["invite_conversion"] == ci_dict(1, 2)


def test_revenue_with_refunds_and_two_currencies(tiny: Path) -> None:
    rev = stage(run(tiny), "rev")
    m = rev.metrics
    # USD: u1 100 − 20 (refund on o1) + u3 40 = 120; EUR: u2 50 + 30 = 80. Never summed.
    assert m["revenue"] == {"EUR": 80.0, "USD": 120.0}
    # Net positive: u1 (80 USD), u2 (80 EUR), u3 (40 USD).
    assert m["paying_units"] == 3
    assert m["conversion_to_paid"] == 3 / 4
    assert m["arpu"] == {"EUR": 80 / 4, "USD": 120 / 4}
    # Paying per currency: EUR {u2}, USD {u1, u3}.
    assert m["arppu"] == {"EUR": 80.0, "USD": 60.0}
    # Orders: the refund on o1 adds none. EUR {o2, o3}, USD {o1, o4}.
    assert m["aov"] == {"EUR": 40.0, "USD": 60.0}
    assert m["purchase_frequency"] == 4 / 3
    assert m["ltv"] == {"EUR": 20.0, "USD": 30.0}
    assert m["ltv_cac"] == {"EUR": None, "USD": None}
    assert rev.ci["conversion_to_paid"] == ci_dict(3, 4)


def test_ltv_by_acquisition_cohort(tiny: Path) -> None:
    report = run(tiny)
    rev = report.stage("rev")
    assert rev is not None
    table = {t["currency"]: t for t in rev.tables["ltv_by_cohort"]}
    eur, usd = table["EUR"], table["USD"]
    # Cohorts by acquisition week: W1 {u1, u2}, W2 {u3}, W4 {u4}; W4 is the last week, so W1
    # has k = 0..3, W2 k = 0..2, W4 k = 0. Week W4 is not complete (the data ends in it).
    w1 = eur["cohorts"][0]
    assert (w1["cohort"], w1["size"]) == ("2025-01-06", 2)
    # EUR of W1: u2 buys 50 in W1 (k=0) and 30 in W3 (k=2): cumulative 50, 50, 80, 80 / 2.
    assert w1["values"] == [25.0, 25.0, 40.0, 40.0]
    assert w1["complete"] == [True, True, True, False]
    # USD of W1: u1's 100 − 20 in W1; of W2: u3's 40 in W2.
    assert usd["cohorts"][0]["values"] == [40.0, 40.0, 40.0, 40.0]
    assert usd["cohorts"][1]["values"] == [40.0, 40.0, 40.0]
    # Average over complete cells: k=0,1 pool W1 and W2 (3 units), k=2 only W1, k=3 none.
    assert eur["average"] == pytest.approx([50 / 3, 50 / 3, 40.0, None])
    assert usd["average"] == [40.0, 40.0, 40.0, None]


def test_satisfaction_counts_every_response(tiny: Path) -> None:
    sat = stage(run(tiny), "sat")
    # Scores 10 (promoter), 6 (detractor), 8 (passive): NPS = 100 × (1/3 − 1/3) = 0.
    assert sat.metrics == {
        "median_time_to_convert_s": None,
        "nps": 0.0,
        "mean_score": 8.0,
        "responses": 3,
    }
    assert sat.detail["passives"] == 1
    assert sat.ci["promoter_share"] == ci_dict(1, 3)


def test_breakdown_by_channel(tiny: Path) -> None:
    report = run(tiny, by=("channel",), spend=str(tiny / "spend.csv"))
    (b,) = report.breakdowns
    assert b.by == "channel"
    groups = {g.value: g for g in b.groups}
    assert list(groups) == ["organic", "paid"]
    organic, paid = groups["organic"], groups["paid"]
    assert (organic.units, paid.units) == (2, 2)
    assert [s.count for s in organic.stages] == [2, 0, 0, 0, 0, 0]
    assert [s.count for s in paid.stages] == [2, 2, 1, 0, 0, 0]
    # CAC by the channel breakdown: paid 60 / 2; organic has no spend.
    assert paid.stages[0].metrics["cac"] == 30.0
    assert organic.stages[0].metrics["cac"] is None
    assert organic.stages[1].metrics["rate"] == 0.0
    assert paid.stages[1].metrics["rate"] == 0.5
    # Retention, paid: W1 {u1} back in W2, W2 {u1, u3} not back in W3: 1/3; churn: lost
    # {u1, u3} of 3 active at the starts; organic: u2 lost of 1.
    assert paid.stages[2].metrics["period_1"] == pytest.approx(1 / 3)
    assert paid.stages[2].metrics["churn_rate"] == pytest.approx(2 / 3)
    assert organic.stages[2].metrics["churn_rate"] == 1.0
    # u3's sign-up is credited to its inviter u1 (paid).
    assert paid.stages[3].metrics["referred_signups"] == 1
    assert paid.stages[3].metrics["k_factor"] == 0.5
    assert organic.stages[3].metrics["invite_conversion"] is None  # 0 / 0 invites
    assert organic.stages[4].metrics["revenue"] == {"EUR": 80.0, "USD": 0.0}
    assert organic.stages[4].metrics["arppu"] == {"EUR": 80.0, "USD": None}
    assert paid.stages[5].metrics["nps"] == 50.0
    assert organic.stages[5].metrics["nps"] == -100.0


def test_since_restricts_population_and_acquisition(tiny: Path) -> None:
    report = run(tiny, since="2025-01-13")
    # Visits from 01-13 on: u1 (01-14), u3, u4 → P = 3; acquired there: u3, u4 (u1 was
    # acquired on 01-06).
    assert report.population["units"] == 3
    assert report.population["acquired"] == 2
    assert stage(report, "acq").metrics["new_units"] == 2
    assert stage(report, "act").metrics["rate"] == 0.0
    rev = stage(report, "rev").metrics
    # In range and in P: only u3's 40 USD (u1's order is before, u2 is not in P).
    assert rev["revenue"] == {"USD": 40.0}
    assert rev["arpu"] == {"USD": 40 / 3}
    assert rev["conversion_to_paid"] == 0.5
    assert stage(report, "ref").metrics["invites_per_unit"] == 0.0
    # u2's 30 EUR on 01-20 is in the range but u2 is not in P: said, not summed.
    notes = report.stages[4].notes
    assert notes == [
        "1 unit(s) with no Acquisition event in the range have amounts here (EUR 30.00); "
        "they are outside the population and not counted"
    ]


def test_empty_range_gives_nulls_not_zeros(tiny: Path) -> None:
    report = run(tiny, since="2026-01-01")
    assert report.population == {"units": 0, "acquired": 0, "first_stage": "acq"}
    assert report.warnings == [
        "no unit has an event of the first stage, Acquisition (visit), in the range: the "
        "population is empty and every metric is null"
    ]
    assert stage(report, "act").metrics["rate"] is None
    assert stage(report, "ref").metrics["referrer_share"] is None
    assert stage(report, "ref").metrics["k_factor"] is None
    assert stage(report, "sat").metrics["nps"] is None
    assert stage(report, "sat").metrics["mean_score"] is None
    rev = stage(report, "rev").metrics
    assert rev["revenue"] == {}
    assert rev["conversion_to_paid"] is None
    assert stage(report, "act").ci["rate"] is None


def test_single_currency_money_is_a_number_and_ltv_cac(tmp_path: Path) -> None:
    (tmp_path / "events.csv").write_text(
        "user_id,event,timestamp,channel,amount\n"
        "a,visit,2025-03-03T10:00:00Z,paid,\n"
        "a,purchase,2025-03-04T10:00:00Z,,30\n"
        "a,purchase,2025-03-05T10:00:00Z,,-10\n"
        "b,visit,2025-03-03T11:00:00Z,paid,\n",
        encoding="utf-8",
    )
    (tmp_path / "map.yaml").write_text(
        "id: one\nname: One currency\nstages:\n"
        "  - {id: acq, name: A, kind: acquisition, events: [visit], channel: channel}\n"
        "  - {id: rev, name: R, kind: revenue, events: [purchase], amount: amount}\n",
        encoding="utf-8",
    )
    (tmp_path / "spend.csv").write_text(
        "date,channel,amount\n2025-03-03,paid,8\n", encoding="utf-8"
    )
    report = run(tmp_path, spend=str(tmp_path / "spend.csv"))
    m = stage(report, "rev").metrics
    # No currency option: plain numbers. Revenue 30 − 10 = 20 over 2 units; the −10 event is
    # a refund, not an order: 1 order. CAC = 8 / 2; LTV = 20 / 2; LTV:CAC = 10 / 4.
    assert m["revenue"] == 20.0
    assert m["arpu"] == 10.0
    assert m["aov"] == 20.0
    assert m["ltv"] == 10.0
    assert stage(report, "acq").metrics["cac"] == 4.0
    assert m["ltv_cac"] == 2.5


def test_nps_scores_outside_0_10_are_an_error(tmp_path: Path) -> None:
    (tmp_path / "events.csv").write_text(
        "user_id,event,timestamp,score\n"
        "a,visit,2025-03-03T10:00:00Z,\n"
        "a,survey,2025-03-04T10:00:00Z,9\n"
        "a,survey,2025-03-05T10:00:00Z,11\n"
        "b,visit,2025-03-03T10:00:00Z,\n"
        "b,survey,2025-03-06T10:00:00Z,0\n"
        "b,survey,2025-03-07T10:00:00Z,9\n",
        encoding="utf-8",
    )
    (tmp_path / "map.yaml").write_text(
        "id: s\nname: S\nstages:\n"
        "  - {id: v, name: V, events: [visit]}\n"
        "  - {id: q, name: Q, kind: satisfaction, events: [survey], score: score}\n",
        encoding="utf-8",
    )
    # A score off the scale is an input error naming the scale and the values (issue 12);
    # it used to be left out with a count in detail.invalid_scores.
    with pytest.raises(InputError, match=r"outside its scale 0–10: 11"):
        run(tmp_path)


def test_missing_optional_columns_become_notes(tmp_path: Path) -> None:
    (tmp_path / "events.csv").write_text(
        "user_id,event,timestamp,amount\n"
        "a,visit,2025-03-03T10:00:00Z,\n"
        "a,purchase,2025-03-04T10:00:00Z,12.5\n",
        encoding="utf-8",
    )
    report = api_metrics.metrics(
        [str(tmp_path / "events.csv")], api_metrics.MetricsOptions(model="aida")
    )
    attention, action = report.stages[0], report.stages[3]
    assert any("channel" in n for n in attention.notes)
    assert any("currency" in n for n in action.notes)
    assert action.numbers.metrics["revenue"] == 12.5  # one currency: a plain number


def test_missing_amount_column_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "events.csv").write_text(
        "user_id,event,timestamp\na,visit,2025-03-03T10:00:00Z\n", encoding="utf-8"
    )
    with pytest.raises(InputError, match=r"stage 'action' \(revenue\) reads its amount"):
        api_metrics.metrics(
            [str(tmp_path / "events.csv")], api_metrics.MetricsOptions(model="aida")
        )


def test_text_amounts_are_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "events.csv").write_text(
        "user_id,event,timestamp,amount\n"
        "a,visit,2025-03-03T10:00:00Z,\n"
        "a,purchase,2025-03-04T10:00:00Z,$12.50\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"column 'amount' .* expected numbers"):
        api_metrics.metrics(
            [str(tmp_path / "events.csv")], api_metrics.MetricsOptions(model="aida")
        )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("date,channel\n2025-01-01,paid\n", "no amount column 'amount'"),
        ("date,channel,amount\n2025-01-01,paid,12$\n", "holds '12\\$', expected a number"),
        ("date,channel,amount\n01/02/2025,paid,3\n", "can't read '01/02/2025'"),
    ],
)
def test_bad_spend_files(tiny: Path, content: str, message: str) -> None:
    (tiny / "bad.csv").write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        run(tiny, spend=str(tiny / "bad.csv"))


# --- the shipped example --------------------------------------------------------------------

SHOP = Path(__file__).resolve().parents[1] / "examples" / "shop"


@pytest.fixture(scope="module")
def shop_report() -> MetricsReport:
    return api_metrics.metrics(
        [str(SHOP / "events.parquet")],
        api_metrics.MetricsOptions(model=str(SHOP / "map.yaml")),
    )


def _sum(values: list[Any]) -> Any:
    if values and isinstance(values[0], dict):
        return {k: sum(v[k] for v in values) for k in values[0]}
    return sum(values)


@pytest.mark.parametrize(
    "name", ["new_units", "referred_signups", "paying_units", "responses", "revenue"]
)
def test_breakdown_groups_sum_to_totals(shop_report: MetricsReport, name: str) -> None:
    assert [b.by for b in shop_report.breakdowns] == ["channel", "persona"]
    for b in shop_report.breakdowns:
        for i, s in enumerate(shop_report.stages):
            total = s.numbers
            parts = [g.stages[i] for g in b.groups]
            assert sum(p.count for p in parts) == total.count
            if name in total.metrics:
                got = _sum([p.metrics[name] for p in parts])
                want = total.metrics[name]
                assert got == pytest.approx(want), (b.by, s.id, name)


def test_breakdown_churn_sums_to_total(shop_report: MetricsReport) -> None:
    total = shop_report.stage("retention")
    assert total is not None
    assert total.retention is not None
    done = [p for p in total.retention.periods if p.complete]
    lost, at_start = sum(p.lost for p in done), sum(p.lost + p.retained for p in done)
    assert total.numbers.detail["lost"] == lost
    assert total.numbers.metrics["churn_rate"] == pytest.approx(lost / at_start)
    i = [s.id for s in shop_report.stages].index("retention")
    for b in shop_report.breakdowns:
        parts = [g.stages[i].detail for g in b.groups]
        assert sum(d["lost"] for d in parts) == lost
        assert sum(d["active_at_start"] for d in parts) == at_start


def test_retention_stage_matches_cjkit_retention(shop_report: MetricsReport) -> None:
    from cjkit import api as api_cohorts

    alone = api_cohorts.retention(
        [str(SHOP / "events.parquet")],
        api_cohorts.RetentionOptions(
            start_event="signup", return_event="visit", period="week", periods=12
        ),
    )
    ret = shop_report.stage("retention")
    assert ret is not None
    for k in range(1, 13):
        assert ret.numbers.metrics[f"period_{k}"] == pytest.approx(alone.average.rates[k])
    assert ret.numbers.metrics["churn_rate"] == pytest.approx(alone.summary["churn_rate"])


@pytest.mark.parametrize("model", ["aarrr", "aida", "5a", "accsr", "tofu-mofu-bofu", "coleman-8"])
def test_every_builtin_model_runs_on_the_shop(model: str) -> None:
    report = api_metrics.metrics(
        [str(SHOP / "events.parquet")], api_metrics.MetricsOptions(model=model)
    )
    assert [s.id for s in report.stages] == [s["id"] for s in report.to_dict()["stages"]]
    assert report.stages[0].numbers.count == report.population["units"] > 40_000
    counts = [s.numbers.count for s in report.stages]
    assert counts == sorted(counts, reverse=True)
    for s in report.stages:
        for name, ci in s.numbers.ci.items():
            if ci is not None:
                assert 0.0 <= ci["low"] <= ci["high"] <= 1.0, (s.id, name)
    json.dumps(report.to_dict())  # serializable


# --- DuckDB differential test of the revenue metrics -----------------------------------------


def _random_shop(seed: int) -> tuple[str, list[tuple[Any, ...]]]:
    rng = np.random.default_rng(seed)
    lines = ["user_id,event,timestamp,amount,currency,order_id"]
    rows = []
    n_units = int(rng.integers(5, 60))
    order = 0
    for u in range(n_units):
        base = int(rng.integers(0, 20 * 86400))
        lines.append(f"u{u},visit,{_iso(base)},,,")
        for _ in range(int(rng.integers(0, 5))):
            order += 1
            t = base + int(rng.integers(-86400, 30 * 86400))  # some before the first visit
            amount = round(float(rng.uniform(0, 200)), 2) * (1 if rng.random() > 0.1 else 0)
            cur = "USD" if rng.random() < 0.7 else "EUR"
            lines.append(f"u{u},purchase,{_iso(t)},{amount},{cur},o{order}")
            rows.append((f"u{u}", t, amount, cur, f"o{order}"))
            if rng.random() < 0.2:
                refund = -round(amount * float(rng.uniform(0.1, 1.0)), 2)
                lines.append(f"u{u},refund,{_iso(t + 3600)},{refund},{cur},o{order}")
                rows.append((f"u{u}", t + 3600, refund, cur, f"o{order}"))
    return "\n".join(lines) + "\n", rows


def _iso(seconds: int) -> str:
    from datetime import UTC, datetime, timedelta

    start = datetime(2025, 1, 1, tzinfo=UTC)
    return (start + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


DIFF_MAP = """\
id: diff
name: Differential
stages:
  - {id: v, name: Visit, events: [visit]}
  - id: rev
    name: Revenue
    kind: revenue
    events: [purchase, refund]
    amount: amount
    currency: currency
    order_id: order_id
"""

DUCK_SQL = """
with acq as (
  select user_id, min(timestamp) as t0 from ev where event = 'visit' group by user_id
), pay as (
  select * from ev where event in ('purchase', 'refund')
), per_unit as (
  select user_id, currency, sum(amount) as net from pay group by user_id, currency
), cur as (
  select currency,
         sum(amount) as revenue,
         count(distinct case when amount >= 0 then order_id end) as orders,
         sum(case when p.timestamp >= a.t0 then amount else 0 end) as ltv_revenue
  from pay p join acq a using (user_id)
  group by currency
), paying as (
  select currency, count(*) filter (where net > 0) as paying from per_unit group by currency
)
select c.currency, c.revenue, c.orders, c.ltv_revenue, p.paying,
       (select count(*) from acq) as population,
       (select count(distinct user_id) from per_unit where net > 0) as paying_any,
       (select count(distinct case when amount >= 0 then order_id end) from pay) as orders_all
from cur c join paying p using (currency) order by c.currency
"""


@pytest.mark.parametrize("seed", range(6))
def test_revenue_metrics_match_duckdb(tmp_path: Path, seed: int) -> None:
    duckdb = pytest.importorskip("duckdb")
    text, _ = _random_shop(seed)
    (tmp_path / "events.csv").write_text(text, encoding="utf-8")
    (tmp_path / "map.yaml").write_text(DIFF_MAP, encoding="utf-8")
    rev = stage(run(tmp_path), "rev").metrics
    con = duckdb.connect()
    con.execute(
        f"create table ev as select * from read_csv_auto('{tmp_path / 'events.csv'}', "
        "types={'amount': 'DOUBLE', 'currency': 'VARCHAR', 'order_id': 'VARCHAR'})"
    )
    rows = con.execute(DUCK_SQL).fetchall()
    if not rows:
        assert rev["paying_units"] == 0
        return
    population, paying_any, orders_all = rows[0][5], rows[0][6], rows[0][7]
    assert rev["paying_units"] == paying_any
    assert rev["conversion_to_paid"] == pytest.approx(paying_any / population)
    assert rev["purchase_frequency"] == pytest.approx(
        orders_all / paying_any if paying_any else None
    )
    for currency, revenue, orders, ltv_revenue, paying, *_ in rows:
        assert rev["revenue"][currency] == pytest.approx(revenue)
        assert rev["arpu"][currency] == pytest.approx(revenue / population)
        assert rev["arppu"][currency] == pytest.approx(revenue / paying if paying else None)
        assert rev["aov"][currency] == pytest.approx(revenue / orders if orders else None)
        assert rev["ltv"][currency] == pytest.approx(ltv_revenue / population)


TIES = """\
user_id,event,timestamp,channel,referrer_id,amount,currency,order_id,score
u1,visit,2025-01-06T10:00:00Z,paid,,,,,
u1,visit,2025-01-06T10:00:00Z,email,,,,,
u1,visit,2025-01-07T10:00:00Z,affiliate,,,,,
u1,invite,2025-01-07T11:00:00Z,,,,,,
u2,visit,2025-01-06T10:00:00Z,,,,,,
u2,visit,2025-01-06T10:00:00Z,social,,,,,
u2,signup,2025-01-06T10:05:00Z,,u9,,,,
u2,signup,2025-01-06T10:05:00Z,,u1,,,,
u2,signup,2025-01-06T09:00:00Z,,,,,,
u3,visit,2025-01-08T10:00:00Z,,,,,,
u3,purchase,2025-01-09T10:00:00Z,,,10,USD,o1,
u3,survey,2025-01-09T11:00:00Z,,,,,,7
"""


@pytest.mark.parametrize("reverse", [False, True], ids=["file-order", "reversed"])
def test_earliest_channel_and_referrer_break_ties_by_value(
    tmp_path: Path, reverse: bool
) -> None:
    """Equal first moments go to the smallest value (nulls last), in any row order."""
    header, *rows = TIES.splitlines()
    (tmp_path / "events.csv").write_text(
        "\n".join([header, *(reversed(rows) if reverse else rows)]) + "\n", encoding="utf-8"
    )
    (tmp_path / "map.yaml").write_text(MAP, encoding="utf-8")
    report = run(tmp_path, by=("channel",))
    acq = report.stage("acq")
    assert acq is not None
    # u1: paid and email at its first visit → email; u2: null and social → social; u3: null.
    by_channel = {r["channel"]: r["new_units"] for r in acq.tables["by_channel"]}
    assert by_channel == {"email": 1, "social": 1, None: 1}
    # u2's earliest signups naming a referrer (10:05) name u9 and u1 → u1, so the referred
    # sign-up counts in u1's group (email), not in u2's own (social).
    (b,) = report.breakdowns
    groups = {g.value: g for g in b.groups}
    ref_index = [st.id for st in report.stages].index("ref")
    assert groups["email"].stages[ref_index].metrics["referred_signups"] == 1
    assert groups["social"].stages[ref_index].metrics["referred_signups"] == 0
