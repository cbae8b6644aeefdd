"""Satisfaction beyond NPS: CSAT and CES, their intervals, the scales, and the tables by
touchpoint and by the stage reached (docs/metrics.md, "Satisfaction"). Hand-computed values,
a plain-Python and scipy reference, and hypothesis properties (groups add up, order-free)."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from cjkit import api
from cjkit.engine.metrics.kinds.satisfaction import t_interval
from cjkit.engine.stats import ci_dict
from cjkit.errors import InputError

# a: visit, signup, answers (csat 5, ces 6) at touchpoint chat after signing up;
# b: visit, answers (csat 3, ces 2) at email before signing up, then signs up;
# c: visit, answers twice (csat 4 / ces 7 at chat; csat 2 / ces 4 at email), signs up in between.
EVENTS = """\
user_id,event,timestamp,csat,ces,touchpoint
a,visit,2025-03-03T10:00:00Z,,,
a,signup,2025-03-03T11:00:00Z,,,
a,survey,2025-03-04T10:00:00Z,5,6,chat
b,visit,2025-03-03T10:00:00Z,,,
b,survey,2025-03-04T10:00:00Z,3,2,email
b,signup,2025-03-05T10:00:00Z,,,
c,visit,2025-03-03T10:00:00Z,,,
c,survey,2025-03-04T10:00:00Z,4,7,chat
c,signup,2025-03-05T10:00:00Z,,,
c,survey,2025-03-06T10:00:00Z,2,4,email
"""

MAP = """\
id: s
name: S
stages:
  - {{id: visit, name: Visit, kind: acquisition, events: [visit]}}
  - {{id: signup, name: Signup, events: [signup]}}
  - {{id: sat, name: Satisfaction, kind: satisfaction, events: [survey], csat: csat, ces: ces{extra}}}
"""


def _run(folder: Path, events: str = EVENTS, extra: str = "", by: tuple[str, ...] = ()) -> Any:
    (folder / "events.csv").write_text(events, encoding="utf-8")
    (folder / "map.yaml").write_text(MAP.format(extra=extra), encoding="utf-8")
    report = api.metrics(
        [str(folder / "events.csv")],
        api.MetricsOptions(model=str(folder / "map.yaml"), by=by, breakdowns=bool(by)),
    )
    return report, next(s for s in report.stages if s.id == "sat")


def test_csat_and_ces_by_hand(tmp_path: Path) -> None:
    _, sat = _run(tmp_path)
    m = sat.numbers.metrics
    # CSAT answers 5, 3, 4, 2: 4–5 are satisfied → 2 of 4.
    assert m["csat"] == 0.5
    assert m["csat_responses"] == 4
    assert sat.numbers.ci["csat"] == ci_dict(2, 4)
    # CES answers 6, 2, 7, 4: mean 19/4; easy (5–7) → 6 and 7, 2 of 4.
    assert m["ces"] == pytest.approx(4.75)
    assert m["ces_easy"] == 0.5
    assert m["ces_responses"] == 4
    # t interval by hand: s² = Σ(x − 4.75)² / 3 = (1.5625 + 7.5625 + 5.0625 + 0.5625) / 3.
    s = math.sqrt(14.75 / 3)
    half = 3.182446305284263 * s / 2  # t(0.975, 3) · s / √4
    assert sat.numbers.ci["ces"] == pytest.approx({"low": 4.75 - half, "high": 4.75 + half})
    # No NPS question: no NPS metrics.
    assert "nps" not in m


def test_tables_by_touchpoint_and_stage_reached(tmp_path: Path) -> None:
    _, sat = _run(tmp_path)
    by_tp = {r["touchpoint"]: r for r in sat.tables["by_touchpoint"]}
    assert by_tp["chat"]["csat"] == 1.0  # 5 and 4
    assert by_tp["email"]["csat"] == 0.0  # 3 and 2
    assert by_tp["chat"]["ces"] == pytest.approx(6.5)
    reached = {r["stage"]: r for r in sat.tables["by_stage_reached"]}
    # a after signup (5); c's second answer after signup (2): signup row csat 1 of 2.
    assert reached["signup"]["csat_responses"] == 2
    assert reached["signup"]["csat"] == 0.5
    # b's and c's first answers came before their signup: the stage reached is the visit.
    # (The satisfaction stage itself never counts as reached.)
    assert reached["visit"]["csat_responses"] == 2
    assert reached["visit"]["ces"] == pytest.approx((2 + 7) / 2)


def test_configured_scale_and_threshold(tmp_path: Path) -> None:
    _, sat = _run(tmp_path, extra=", csat_min: 3, ces_scale: [1, 7], ces_min: 6")
    assert sat.numbers.metrics["csat"] == 0.75  # 5, 3, 4 of 4
    assert sat.numbers.metrics["ces_easy"] == 0.5  # 6, 7


def test_scores_off_the_scale_are_an_error_naming_scale_and_values(tmp_path: Path) -> None:
    events = EVENTS.replace(
        "a,survey,2025-03-04T10:00:00Z,5,6", "a,survey,2025-03-04T10:00:00Z,9,6"
    )
    with pytest.raises(
        InputError, match=r"'csat' \(csat\) has 1 score\(s\) outside its scale 1–5: 9"
    ):
        _run(tmp_path, events=events)


def test_nps_on_a_1_5_rating_gets_a_note(tmp_path: Path) -> None:
    events = "user_id,event,timestamp,score\n" + "".join(
        f"u{i},visit,2025-03-03T10:00:00Z,\nu{i},survey,2025-03-04T10:00:00Z,{1 + i % 5}\n"
        for i in range(10)
    )
    (tmp_path / "events.csv").write_text(events, encoding="utf-8")
    (tmp_path / "map.yaml").write_text(
        "id: s\nname: S\nstages:\n  - {id: v, name: V, events: [visit]}\n"
        "  - {id: q, name: Q, kind: satisfaction, events: [survey], score: score}\n",
        encoding="utf-8",
    )
    report = api.metrics(
        [str(tmp_path / "events.csv")], api.MetricsOptions(model=str(tmp_path / "map.yaml"))
    )
    q = report.stages[1]
    assert any("scale: [1, 5]" in note for note in q.notes)
    # With the scale set, NPS is undefined and the mean stays.
    (tmp_path / "map.yaml").write_text(
        "id: s\nname: S\nstages:\n  - {id: v, name: V, events: [visit]}\n"
        "  - {id: q, name: Q, kind: satisfaction, events: [survey], score: score, scale: [1, 5]}\n",
        encoding="utf-8",
    )
    report = api.metrics(
        [str(tmp_path / "events.csv")], api.MetricsOptions(model=str(tmp_path / "map.yaml"))
    )
    assert report.stages[1].numbers.metrics["nps"] is None
    assert report.stages[1].numbers.metrics["mean_score"] == pytest.approx(3.0)


def test_t_interval_matches_scipy() -> None:
    values = [1.0, 4.0, 4.0, 5.0, 7.0, 7.0, 2.0]
    n = len(values)
    got = t_interval(sum(values), sum(v * v for v in values), n)
    low, high = stats.t.interval(0.95, n - 1, loc=sum(values) / n, scale=stats.sem(values))
    assert got == pytest.approx({"low": low, "high": high})
    assert t_interval(3.0, 9.0, 1) is None


answers = st.lists(
    st.tuples(
        st.integers(0, 5),  # unit
        st.integers(1, 5),  # csat
        st.integers(1, 7),  # ces
        st.sampled_from(["chat", "email", "web"]),
    ),
    min_size=1,
    max_size=25,
)


def _events(rows: list[tuple[int, int, int, str]], seed: int) -> str:
    lines = [f"u{u},visit,2025-03-03T10:00:00Z,,,," for u in range(6)]
    lines += [
        f"u{u},survey,2025-03-{4 + i % 20:02d}T10:00:00Z,{c},{e},{tp},{'ab'[u % 2]}"
        for i, (u, c, e, tp) in enumerate(rows)
    ]
    random.Random(seed).shuffle(lines)
    return "user_id,event,timestamp,csat,ces,touchpoint,seg\n" + "\n".join(lines) + "\n"


@given(answers, st.integers(0, 1000))
def test_properties_against_plain_python(
    tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[int, int, int, str]], seed: int
) -> None:
    folder = tmp_path_factory.mktemp("sat")
    report, sat = _run(folder, events=_events(rows, seed), by=("seg",))
    m = sat.numbers.metrics
    # Plain-Python reference.
    csat = [c for _, c, _, _ in rows]
    ces = [e for _, _, e, _ in rows]
    assert m["csat"] == pytest.approx(sum(c >= 4 for c in csat) / len(csat))
    assert m["ces"] == pytest.approx(sum(ces) / len(ces))
    assert m["ces_easy"] == pytest.approx(sum(e >= 5 for e in ces) / len(ces))
    assert 0 <= m["csat"] <= 1
    assert 0 <= m["ces_easy"] <= 1
    # Touchpoint rows and breakdown groups partition the answers.
    assert sum(r["csat_responses"] for r in sat.tables["by_touchpoint"]) == len(rows)
    assert sum(r["csat_responses"] for r in sat.tables["by_stage_reached"]) == len(rows)
    groups = report.breakdowns[0].groups
    k = [s.id for s in report.stages].index("sat")
    assert sum(g.stages[k].metrics["csat_responses"] for g in groups) == len(rows)
