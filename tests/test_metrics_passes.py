"""``cjkit metrics`` in passes over disjoint sets of units gives the one-pass report, byte for byte.

Inputs too big for memory are split by a hash of the unit and each stage kind's tables are merged
(``cjkit.engine.metrics.combine``): per-unit rows concatenate, counts and integer money sums add
up, retention's cohort ranges widen. The pass count is forced (``MetricsOptions.passes``) to 1,
2, 3 and 20 (most of those 20 passes hold one unit or none) on random logs read through a map
with every stage kind (acquisition with spend and channels, activation, retention, referral,
revenue with refunds, currencies and order ids, satisfaction with NPS, CSAT and CES), with
outliers at both ends of the time range, breakdowns and date ranges; and on the built-in models
over the example shop.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from budget import budget
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cjkit import api
from cjkit.engine import passes as memory

PASSES = (1, 2, 3, 20)
ROOT = Path(__file__).resolve().parents[1]
SHOP = str(ROOT / "examples" / "shop" / "events.parquet")
MODELS = sorted(p.stem for p in (ROOT / "models").glob("*.yaml"))

MAP = """\
id: every
name: Every kind
settings: {window: 14d, period: week}
segments: [tier]
spend: {path: spend.csv}
stages:
  - {id: acq, name: Acquisition, kind: acquisition, events: [visit], channel: channel}
  - {id: act, name: Activation, kind: activation, events: [onboard], within: 3d}
  - {id: ret, name: Retention, kind: retention, events: [visit, purchase], periods: 4}
  - {id: ref, name: Referral, kind: referral, events: [invite], referrer: referrer_id}
  - id: rev
    name: Revenue
    kind: revenue
    events: [purchase, refund]
    amount: amount
    currency: currency
    order_id: order_id
  - id: sat
    name: Satisfaction
    kind: satisfaction
    events: [survey]
    score: score
    csat: csat
    ces: ces
"""

SPEND = """\
date,channel,amount
2025-01-02,paid,30.10
2025-01-20,paid,20.05
2025-02-03,email,7.5
2025-02-25,paid,12
2019-06-01,paid,999
"""

EVENTS = ("visit", "signup", "onboard", "purchase", "refund", "invite", "survey", "other")
START = datetime(2025, 1, 1, tzinfo=UTC)
# Events far before and after the rest: they move the data's span, the first-ever events and
# the retention ranges, which passes must take from all the units, not from their own.
OUTLIERS = (datetime(2019, 6, 1, 3, tzinfo=UTC), datetime(2027, 3, 1, 21, tzinfo=UTC))
RANGES = ((None, None), ("2025-01-13", "2025-02-23"), (None, "2025-02-10"), ("2025-01-20", None))
BYS: tuple[tuple[str, ...], ...] = ((), ("channel",), ("channel", "tier"))

row = st.tuples(
    st.integers(0, 11),  # unit
    st.sampled_from(EVENTS),
    st.integers(0, 70 * 24),  # hours after START: ten weeks
    st.sampled_from(["paid", "organic", "email", None]),
    st.integers(1, 50_000),  # amount in cents
    st.sampled_from(["USD", "EUR", None]),
    st.one_of(st.none(), st.integers(0, 5)),  # order id
    st.one_of(st.none(), st.integers(0, 11)),  # referrer
    st.one_of(st.none(), st.integers(0, 10)),  # NPS score
    st.one_of(st.none(), st.integers(1, 5)),  # CSAT
    st.one_of(st.none(), st.integers(1, 7)),  # CES
    st.sampled_from(["free", "pro", None]),  # tier
)


def _frame(rows: list[tuple[Any, ...]], early: int | None, late: int | None) -> pl.DataFrame:
    out: list[dict[str, Any]] = []
    for drawn in rows:
        unit, event, hours, channel, cents, currency, order, referrer, score, csat, ces, tier = (
            drawn
        )
        money = event in ("purchase", "refund")
        out.append(
            {
                "user_id": f"u{unit}",
                "event": event,
                "timestamp": START + timedelta(hours=hours),
                "channel": channel if event in ("visit", "signup") else None,
                "amount": (cents if event == "purchase" else -cents) / 100 if money else None,
                "currency": currency if money else None,
                "order_id": f"o{order}" if money and order is not None else None,
                "referrer_id": None if event != "signup" or referrer is None else f"u{referrer}",
                "score": score if event == "survey" else None,
                "csat": csat if event == "survey" else None,
                "ces": ces if event == "survey" else None,
                "tier": tier,
            }
        )
    for unit, moment in ((early, OUTLIERS[0]), (late, OUTLIERS[1])):
        if unit is not None:
            out.append({"user_id": f"u{unit}", "event": "visit", "timestamp": moment})
    schema: dict[str, Any] = {
        "user_id": pl.String,
        "event": pl.String,
        "timestamp": pl.Datetime("us", "UTC"),
        "channel": pl.String,
        "amount": pl.Float64,
        "currency": pl.String,
        "order_id": pl.String,
        "referrer_id": pl.String,
        "score": pl.Int64,
        "csat": pl.Int64,
        "ces": pl.Int64,
        "tier": pl.String,
    }
    return pl.DataFrame(out, schema=schema)


def _json(paths: list[str], model: str, passes: int, **options: Any) -> str:
    report = api.metrics(paths, api.MetricsOptions(model=model, passes=passes, **options))
    doc = report.to_dict()
    doc.pop("generated_at", None)
    return json.dumps(doc, ensure_ascii=False)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("passes")
    (path / "map.yaml").write_text(MAP, encoding="utf-8")
    (path / "spend.csv").write_text(SPEND, encoding="utf-8")
    return path


@settings(max_examples=budget(0.2), suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(row, min_size=1, max_size=60),
    early=st.one_of(st.none(), st.integers(0, 11)),
    late=st.one_of(st.none(), st.integers(0, 11)),
    span=st.sampled_from(RANGES),
    by=st.sampled_from(BYS),
)
def test_every_kind_in_passes_equals_one_pass(
    folder: Path,
    rows: list[tuple[Any, ...]],
    early: int | None,
    late: int | None,
    span: tuple[str | None, str | None],
    by: tuple[str, ...],
) -> None:
    events = folder / "events.parquet"
    _frame(rows, early, late).write_parquet(events)
    model = str(folder / "map.yaml")
    options = {"since": span[0], "until": span[1], "by": by}
    one = _json([str(events)], model, 1, **options)
    assert json.loads(one)["stages"][0]["kind"] == "acquisition"
    for passes in PASSES[1:]:
        assert _json([str(events)], model, passes, **options) == one, f"{passes} passes"


@pytest.mark.slow  # about 5 s a model; the every-kind property test covers each kind fast
@pytest.mark.parametrize("model", MODELS)
def test_builtin_models_in_passes_equal_one_pass(model: str) -> None:
    one = _json([SHOP], model, 1)
    assert json.loads(one)["population"]["units"] > 0
    for passes in PASSES[1:]:
        assert _json([SHOP], model, passes) == one, f"{passes} passes"


def test_breakdowns_folded_to_the_top_values_in_passes() -> None:
    # The values kept by --top rank all the units, so in passes the fold runs before the split.
    one = _json([SHOP], "aarrr", 1, by=("channel",), top=2)
    assert json.loads(one)["breakdown_other"][0]["folded_segments"] > 0
    for passes in PASSES[1:]:
        assert _json([SHOP], "aarrr", passes, by=("channel",), top=2) == one, f"{passes} passes"


def test_metrics_plans_its_passes_for_a_twelfth_of_the_memory() -> None:
    # 1.1 GiB plus about 60 bytes per event of a pass, at 750 planned: on a 24 GiB machine
    # (22 GiB available) 10M events are one pass and 100M four (in 4 GiB).
    gib = 1024**3
    per_event = memory.METRICS_BYTES_PER_EVENT
    assert memory.passes_for(10_065_848, available=22 * gib, bytes_per_event=per_event) == 1
    assert memory.passes_for(99_999_199, available=22 * gib, bytes_per_event=per_event) == 4
    assert memory.passes_for(999_991_990, available=22 * gib, bytes_per_event=per_event) == 32


def test_revenue_predict_section_in_passes(folder: Path) -> None:
    # predict: fits a model on per-(unit, currency, day) totals, concatenated across passes.
    pytest.importorskip("scipy")
    cdnow = ROOT / "examples" / "cdnow"
    text = (cdnow / "map.yaml").read_text(encoding="utf-8")
    assert "    order_id: order_id\n" in text
    predict = "    predict:\n      model: bg_nbd\n      horizon: 12 months\n"
    model = folder / "cdnow.yaml"
    model.write_text(text.replace("    order_id: order_id\n", "    order_id: order_id\n" + predict))
    paths = [str(cdnow / "sample.parquet")]
    one = _json(paths, str(model), 1)
    revenue = next(s for s in json.loads(one)["stages"] if s["kind"] == "revenue")
    assert revenue["metrics"]["predicted_value"]
    for passes in PASSES[1:]:
        assert _json(paths, str(model), passes) == one, f"{passes} passes"
