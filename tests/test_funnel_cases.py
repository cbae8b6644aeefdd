"""Hand-computed funnels: every flag, the peers' own test cases, and each peer disagreement.

Each case names its source. ``CH`` cases are ClickHouse ``windowFunnel`` results (semantics.md
§1.2, verified with chdb); ``PH`` cases are the assertions of PostHog's funnel tests, rebuilt
with the same events; ``MP`` is Mixpanel's documented example. Where peers disagree
(semantics.md §6) the test shows where cjkit's default sits and that the flag reaches the
other peer; where cjkit deliberately differs from a peer, the test says which and why.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from cjkit import api
from cjkit.errors import UsageError

Rows = list[tuple[Any, ...]]  # (user, event, time[, {property: value}])
T0 = datetime(2021, 5, 1, tzinfo=UTC)


def at(day: int = 1, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """Return 2021-05-<day> <hour>:<minute>:<second> UTC."""
    return datetime(2021, 5, day, hour, minute, second, tzinfo=UTC)


def sec(n: float) -> datetime:
    """Return ``n`` seconds after 2021-05-01 00:00 UTC."""
    return T0 + timedelta(seconds=n)


def in_sequence(user: Any, *events: str, start: datetime = T0) -> Rows:
    """Return ``events`` of ``user`` one minute apart (PostHog tests that create events in turn)."""
    return [(user, e, start + timedelta(minutes=i)) for i, e in enumerate(events)]


def write(tmp_path: Path, rows: Rows, name: str = "events.csv") -> str:
    """Write canonical events (ISO times with Z) to a CSV file; return its path."""
    props = sorted({k for r in rows if len(r) > 3 for k in r[3]})
    records = [
        {
            "user_id": r[0],
            "event": r[1],
            "timestamp": r[2].strftime("%Y-%m-%dT%H:%M:%SZ"),
            **{k: (r[3].get(k) if len(r) > 3 else None) for k in props},
        }
        for r in rows
    ]
    path = tmp_path / name
    pl.DataFrame(records, infer_schema_length=None).write_csv(path)
    return str(path)


def run(tmp_path: Path, rows: Rows, *steps: str, **options: Any) -> api.FunnelRun:
    """Return the funnel of ``rows`` with ``steps`` and FunnelOptions ``options``."""
    opts = api.FunnelOptions(steps=steps, **options)
    return api.funnel([write(tmp_path, rows)], opts)


def counts(tmp_path: Path, rows: Rows, *steps: str, **options: Any) -> list[int]:
    """Return the step counts of the funnel."""
    return [s.count for s in run(tmp_path, rows, *steps, **options).report.steps]


def mean_times(report: Any) -> list[float | None]:
    return [s.time_to_convert.mean_s if s.time_to_convert else None for s in report.steps]


def median_times(report: Any) -> list[float | None]:
    return [s.time_to_convert.median_s if s.time_to_convert else None for s in report.steps]


# --- window: inclusive, from the attempt's step-1 event (CH §1.2) -------------------------


E5 = ("e1", "e2", "e3", "e4", "e5")


@pytest.mark.parametrize(("window", "expected"), [("4s", [1, 1, 1, 1, 1]), ("3s", [1, 1, 1, 1, 0])])
def test_ch_window_is_inclusive_from_step_one(
    tmp_path: Path, window: str, expected: list[int]
) -> None:
    # CH: steps at t=3..7 reach 5 with window 4 and 4 with window 3.
    rows = [(1, e, sec(3 + i)) for i, e in enumerate(E5)]
    assert counts(tmp_path, rows, *E5, window=window) == expected


@pytest.mark.parametrize(("window", "expected"), [("1h", [1, 1]), ("3599s", [1, 0])])
def test_ch_one_hour_window_includes_its_end(
    tmp_path: Path, window: str, expected: list[int]
) -> None:
    # CH: A 13:00 → B 14:00 reaches 2 with window 3600 s.
    rows = [(1, "A", at(1, 13)), (1, "B", at(1, 14))]
    assert counts(tmp_path, rows, "A", "B", window=window) == expected


def test_ch_order_matters(tmp_path: Path) -> None:
    # CH: (e1001, e1008) → 2, (e1008, e1001) → 1.
    rows = [(1, "e1001", sec(0)), (1, "e1008", sec(1)), (2, "e1008", sec(0)), (2, "e1001", sec(1))]
    assert counts(tmp_path, rows, "e1001", "e1008") == [2, 1]


def test_default_window_is_14_days_inclusive(tmp_path: Path) -> None:
    # cjkit default (PostHog's default): 14 days, t_k − t_1 ≤ W.
    rows = [
        (1, "A", at(1)),
        (1, "B", at(1) + timedelta(days=14)),
        (2, "A", at(1)),
        (2, "B", at(1) + timedelta(days=14, seconds=1)),
    ]
    run_ = run(tmp_path, rows, "A", "B")
    assert [s.count for s in run_.report.steps] == [2, 1]
    assert run_.report.settings["window_seconds"] == 14 * 86400


@pytest.mark.parametrize(
    ("window", "second_step"),
    [("7d", timedelta(days=1)), ("15s", timedelta(seconds=10))],
    ids=["days", "seconds"],
)
def test_ph_conversion_window(tmp_path: Path, window: str, second_step: timedelta) -> None:
    # PH test_funnel_conversion_window(_seconds): 10 users convert inside the window, 15 after.
    late = timedelta(days=9) if window == "7d" else timedelta(seconds=20)
    rows: Rows = []
    for i in range(25):
        rows += [(i, "step one", at(1)), (i, "step two", at(1) + (second_step if i < 10 else late))]
    assert counts(tmp_path, rows, "step one", "step two", "step three", window=window) == [
        25,
        10,
        0,
    ]


# --- repeated steps, one event per step (PH) vs event reuse (CH) -------------------------


def _repeat_pageviews() -> Rows:
    # PH test_advanced_funnel_with_repeat_steps.
    return [
        *in_sequence(1, "user signed up"),
        *in_sequence(2, "user signed up", "$pageview"),
        *in_sequence(3, "user signed up", "$pageview", "blaah blaa", "$pageview"),
        *in_sequence(
            4, "user signed up", "$pageview", "blaah blaa", "$pageview", "$pageview", "blaah blaa"
        ),
        *in_sequence(5, "user signed up", "$pageview", "$pageview", "$pageview", "$pageview"),
    ]


PAGEVIEW_FUNNEL = ("user signed up", "$pageview", "$pageview", "$pageview", "$pageview")


def test_ph_repeated_steps_need_one_event_each(tmp_path: Path) -> None:
    # PH: [5, 4, 3, 2, 1] — cjkit's default (one event fills at most one step).
    assert counts(tmp_path, _repeat_pageviews(), *PAGEVIEW_FUNNEL) == [5, 4, 3, 2, 1]


def test_ch_allow_event_reuse_fills_every_repeated_step(tmp_path: Path) -> None:
    # CH's default gives [5, 4, 4, 4, 4] on PostHog's data: one pageview fills steps 2–5.
    got = counts(tmp_path, _repeat_pageviews(), *PAGEVIEW_FUNNEL, allow_event_reuse=True)
    assert got == [5, 4, 4, 4, 4]


def test_ch_one_event_three_identical_steps(tmp_path: Path) -> None:
    # CH: windowFunnel(w)(t, e=X, e=X, e=X) on one X → 3 by default, 1 with strict_increase.
    rows = [(1, "X", sec(0))]
    assert counts(tmp_path, rows, "X", "X", "X") == [1, 0, 0]
    assert counts(tmp_path, rows, "X", "X", "X", allow_event_reuse=True) == [1, 1, 1]
    both = counts(tmp_path, rows, "X", "X", "X", allow_event_reuse=True, strict_increase=True)
    assert both == [1, 0, 0]


def test_ph_basic_repeat_steps(tmp_path: Path) -> None:
    # PH test_basic_funnel_with_repeat_steps: [2, 1].
    rows = [*in_sequence(1, "user signed up", "user signed up"), *in_sequence(2, "user signed up")]
    assert counts(tmp_path, rows, "user signed up", "user signed up") == [2, 1]


def test_ph_repeat_steps_out_of_order_events(tmp_path: Path) -> None:
    # PH test_advanced_funnel_with_repeat_steps_out_of_order_events: [5, 4, 1, 1, 1].
    rows = [
        *in_sequence(1, "$pageview", "user signed up"),
        *in_sequence(2, "user signed up", "$pageview"),
        *in_sequence(3, "$pageview", "user signed up", "blaah blaa", "$pageview"),
        *in_sequence(
            4, "blaah blaa", "$pageview", "blaah blaa", "$pageview", "user signed up", "$pageview"
        ),
        *in_sequence(
            5, "user signed up", "$pageview", "blaah blaa", "$pageview", "$pageview", "$pageview"
        ),
        *in_sequence(6, "$pageview", "blaah blaa", "$pageview", "$pageview", "$pageview"),
    ]
    assert counts(tmp_path, rows, *PAGEVIEW_FUNNEL) == [5, 4, 1, 1, 1]


def test_ph_property_filter_steps(tmp_path: Path) -> None:
    # PH test_funnel_with_matching_properties: [5, 4, 3, 2, 0], with name[prop=value] steps.
    def pv(url: str) -> tuple[str, dict[str, str]]:
        return ("$pageview", {"url": url})

    journeys: dict[int, list[tuple[str, dict[str, str]]]] = {
        1: [("user signed up", {})],
        2: [("user signed up", {}), pv("aloha.com")],
        3: [
            ("user signed up", {}),
            pv("aloha.com"),
            ("blaah blaa", {"url": "aloha.com"}),
            pv("aloha2.com"),
        ],
        4: [
            ("user signed up", {}),
            pv("aloha.com"),
            pv("aloha2.com"),
            pv("aloha2.com"),
            ("blaah blaa", {}),
        ],
        5: [
            ("user signed up", {}),
            pv("aloha.com"),
            ("blaah blaa", {}),
            pv("aloha2.com"),
            pv("aloha.com"),
            pv("aloha2.com"),
        ],
    }
    rows: Rows = [
        (u, e, T0 + timedelta(minutes=i), p)
        for u, evs in journeys.items()
        for i, (e, p) in enumerate(evs)
    ]
    steps = (
        "user signed up",
        "$pageview[url=aloha.com]",
        "$pageview[url=aloha2.com]",
        "$pageview[url=aloha2.com]",
        "$pageview",
    )
    assert counts(tmp_path, rows, *steps) == [5, 4, 3, 2, 0]


def test_or_group_step(tmp_path: Path) -> None:
    # A step may be an OR-group: "product1|product2" is filled by either event.
    rows = [
        (1, "visit", sec(0)),
        (1, "product1", sec(1)),
        (2, "visit", sec(0)),
        (2, "product2", sec(1)),
        (3, "visit", sec(0)),
        (3, "product3", sec(1)),
    ]
    run_ = run(tmp_path, rows, "visit", "product1|product2")
    assert [s.count for s in run_.report.steps] == [3, 2]
    assert run_.report.steps[1].events == ["product1", "product2"]


# --- equal timestamps (§1.4) ----------------------------------------------------------------


def test_ph_different_actions_at_same_time_count_as_converted(tmp_path: Path) -> None:
    # PH: sign up and pageview at the same moment convert ([2, 1]); CH strict_increase → [2, 0].
    rows = [(1, "sign up", at(3)), (1, "$pageview", at(3)), (2, "sign up", at(3))]
    assert counts(tmp_path, rows, "sign up", "$pageview") == [2, 1]
    assert counts(tmp_path, rows, "sign up", "$pageview", strict_increase=True) == [2, 0]


def test_ch_strict_increase(tmp_path: Path) -> None:
    # CH: e1000@0, e1001/e1002/e1003@1, e1004@2 → 5 by default, 2 with strict_increase.
    steps = ("e1000", "e1001", "e1002", "e1003", "e1004")
    rows = [
        (1, "e1000", sec(0)),
        (1, "e1001", sec(1)),
        (1, "e1002", sec(1)),
        (1, "e1003", sec(1)),
        (1, "e1004", sec(2)),
    ]
    assert counts(tmp_path, rows, *steps) == [1, 1, 1, 1, 1]
    assert counts(tmp_path, rows, *steps, strict_increase=True) == [1, 1, 0, 0, 0]
    assert counts(tmp_path, rows, *steps, allow_event_reuse=True, strict_increase=True) == [
        1,
        1,
        0,
        0,
        0,
    ]


def test_ph_same_event_same_timestamp(tmp_path: Path) -> None:
    # PH test_same_event_same_timestamp: 20 step-one events at one moment, step two a day later.
    rows: Rows = [(1, "step one", datetime(2024, 1, 10, 12, 1, tzinfo=UTC))] * 20
    rows.append((1, "step two", datetime(2024, 1, 11, 12, 1, tzinfo=UTC)))
    assert counts(tmp_path, rows, "step one", "step two") == [1, 1]


def test_ties_between_an_early_and_a_late_step(tmp_path: Path) -> None:
    # At one timestamp, events go by the first step they can fill: the attempt takes B, then C.
    rows = [(1, "A", sec(0)), (1, "C", sec(5)), (1, "B", sec(5)), (1, "D", sec(6))]
    assert counts(tmp_path, rows, "A", "B", "C", "D") == [1, 1, 1, 1]


# --- re-entry and the window anchor (§6.1) ------------------------------------------------


def _mixpanel_doc() -> Rows:
    # MP funnels-advanced: A 1:00 pm, A 1:30 pm, B 1:45 pm, C 2:15 pm; window 1 hour.
    return [
        (1, "A", at(1, 13)),
        (1, "A", at(1, 13, 30)),
        (1, "B", at(1, 13, 45)),
        (1, "C", at(1, 14, 15)),
    ]


def test_window_anchor_latest_reanchors_like_clickhouse_and_posthog(tmp_path: Path) -> None:
    # cjkit default: the 1:30 pm A re-anchors the window (CH/PH, verified in CH): [1, 1, 1].
    assert counts(tmp_path, _mixpanel_doc(), "A", "B", "C", window="1h") == [1, 1, 1]


def test_window_anchor_first_is_mixpanel_classic(tmp_path: Path) -> None:
    # MP: the window starts at the first A and is not reset by the second: [1, 1, 0].
    got = counts(tmp_path, _mixpanel_doc(), "A", "B", "C", window="1h", anchor="first")
    assert got == [1, 1, 0]


def test_window_anchor_first_takes_the_first_entry_in_the_range(tmp_path: Path) -> None:
    # MP uniques: the unit enters on its first step-1 event in the date range, once.
    rows = [
        (1, "A", at(1)),
        (1, "A", at(5)),
        (1, "B", at(6, 12)),
        (1, "A", at(20)),
        (1, "B", at(20, 1)),
    ]
    got = counts(tmp_path, rows, "A", "B", window="2d", anchor="first", since="2021-05-03")
    assert got == [1, 1]
    got = counts(tmp_path, rows, "A", "B", window="12h", anchor="first", since="2021-05-03")
    assert got == [1, 0]  # the later A at day 20 would convert, but it is not the entry


def _time_to_convert_rows() -> Rows:
    # PH test_time_to_convert_funnel_ignores_breakdown (window 10 minutes).
    d = datetime(2024, 3, 22, tzinfo=UTC)
    return [
        (1, "a", d.replace(hour=13, minute=10)),
        (1, "b", d.replace(hour=13, minute=11)),
        (2, "a", d.replace(hour=13, minute=1)),
        (2, "a", d.replace(hour=13, minute=35)),
        (2, "b", d.replace(hour=13, minute=41)),
        (3, "a", d.replace(hour=13, minute=1)),
        (3, "a", d.replace(hour=13, minute=35)),
        (3, "a", d.replace(hour=13, minute=41)),
    ]


def test_ph_time_from_the_latest_step_one(tmp_path: Path) -> None:
    # PH: the 13:35 a starts user 2's conversion: 360 s; with user 1's 60 s the mean is 210.
    report = run(tmp_path, _time_to_convert_rows(), "a", "b", window="10m").report
    assert [s.count for s in report.steps] == [3, 2]
    assert mean_times(report) == [None, 210.0]
    assert median_times(report) == [None, 210.0]


def test_mixpanel_classic_anchor_loses_the_late_conversion(tmp_path: Path) -> None:
    # --window-anchor first: user 2's window starts at 13:01 and ends before b at 13:41.
    report = run(tmp_path, _time_to_convert_rows(), "a", "b", window="10m", anchor="first").report
    assert [s.count for s in report.steps] == [3, 1]
    assert mean_times(report) == [None, 60.0]


# --- strict order (§6.3) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ("adbc", [1, 0, 0, 0]),  # CH strict_order: 1
        ("aabbdcc", [1, 1, 0, 0]),  # CH strict_order: 2
        ("acb", [1, 0, 0, 0]),  # CH strict_order: 1
        ("aabbcc", [1, 1, 1, 0]),  # CH strict_order 3 (repeats of the reached step are fine)
        ("abcd", [1, 1, 1, 1]),
    ],
)
def test_strict_order_like_posthog(tmp_path: Path, events: str, expected: list[int]) -> None:
    rows = [(1, e, sec(i)) for i, e in enumerate(events)]
    assert counts(tmp_path, rows, "a", "b", "c", "d", order="strict") == expected


def test_strict_restarts_on_a_new_step_one_like_posthog_not_clickhouse(tmp_path: Path) -> None:
    # PH strict: a foreign event breaks the attempt and a later step 1 restarts it → 2.
    # CH strict_order stops scanning at the foreign event (→ 1); cjkit follows PostHog.
    rows = [(1, "a", sec(0)), (1, "x", sec(1)), (1, "a", sec(2)), (1, "b", sec(3))]
    assert counts(tmp_path, rows, "a", "b", order="strict") == [1, 1]
    assert counts(tmp_path, rows, "a", "b") == [1, 1]
    rows = [(1, "a", sec(0)), (1, "x", sec(1)), (1, "b", sec(3))]
    assert counts(tmp_path, rows, "a", "b", order="strict") == [1, 0]
    assert counts(tmp_path, rows, "a", "b") == [1, 1]  # ordered allows other events between


def test_strict_ignores_an_event_that_shares_a_step_timestamp(tmp_path: Path) -> None:
    # PH clears strict paths only on events alone at their timestamp (or with identical ones):
    # x at the same second as b does not break a→b→c; x alone at its second does.
    same = [(1, "a", sec(0)), (1, "x", sec(1)), (1, "b", sec(1)), (1, "c", sec(2))]
    assert counts(tmp_path, same, "a", "b", "c", order="strict") == [1, 1, 1]
    alone = [(1, "a", sec(0)), (1, "x", sec(1)), (1, "b", sec(2)), (1, "c", sec(3))]
    assert counts(tmp_path, alone, "a", "b", "c", order="strict") == [1, 0, 0]


def test_strict_with_strict_increase(tmp_path: Path) -> None:
    rows = [(1, "a", sec(0)), (1, "b", sec(0)), (1, "b", sec(1))]
    assert counts(tmp_path, rows, "a", "b", order="strict") == [1, 1]
    assert counts(tmp_path, rows, "a", "b", order="strict", strict_increase=True) == [1, 1]
    rows = [(1, "a", sec(0)), (1, "b", sec(0))]
    assert counts(tmp_path, rows, "a", "b", order="strict", strict_increase=True) == [1, 0]


def test_strict_window_anchor_first(tmp_path: Path) -> None:
    rows = [(1, "a", sec(0)), (1, "x", sec(1)), (1, "a", sec(2)), (1, "b", sec(3))]
    assert counts(tmp_path, rows, "a", "b", order="strict", anchor="first") == [1, 0]


# --- exclusion steps (§1.5, PostHog) ----------------------------------------------------------


def test_ph_exclusion_no_end_event(tmp_path: Path) -> None:
    # PH test_funnel_exclusion_no_end_event (1-day window): [2, 1]; person 3 is removed although
    # nothing follows x; person 4's x comes 25 h later, outside the window, and is ignored.
    rows = [
        (1, "user signed up", at(1, 1)),
        (1, "paid", at(1, 2)),
        (2, "user signed up", at(1, 3)),
        (2, "x", at(1, 3, 30)),
        (2, "paid", at(1, 4)),
        (3, "user signed up", at(1, 5)),
        (3, "x", at(1, 6)),
        (4, "user signed up", at(1, 7)),
        (4, "x", at(2, 8)),
    ]
    run_ = run(tmp_path, rows, "user signed up", "paid", window="1d", exclude=("x",))
    assert [s.count for s in run_.report.steps] == [2, 1]
    assert run_.report.excluded_units == 2
    kept = run_.units.filter(~pl.col("excluded"))["user_id"].to_list()
    assert sorted(kept) == ["1", "4"]  # ids are text


@pytest.mark.parametrize(
    ("times", "expected"),
    [
        # (step one, exclusion, step one) → the clean later attempt keeps the person at step 1.
        ([("step one", 0), ("exclusion", 1), ("step one", 31)], [1, 0]),
        # the exclusion falls in the second attempt's window only; the first is clean.
        ([("step one", 0), ("step one", 31), ("exclusion", 32)], [1, 0]),
        # the exclusion falls inside both attempts' windows: the person is removed.
        ([("step one", 0), ("step one", 1), ("exclusion", 2)], [0, 0]),
    ],
    ids=["event1", "event2", "event3"],
)
def test_ph_exclusion_multiple_possible_no_end_event(
    tmp_path: Path, times: list[tuple[str, int]], expected: list[int]
) -> None:
    # PH test_funnel_exclusion_multiple_possible_no_end_event1/2/3 (10-second window).
    rows = [(1, e, sec(s)) for e, s in times]
    got = counts(tmp_path, rows, "step one", "step two", window="10s", exclude=("exclusion",))
    assert got == expected


def test_ph_short_exclusions(tmp_path: Path) -> None:
    # PH test_short_exclusions: the first attempt is excluded, the second converts in 29 s.
    rows = [
        (1, "step one", sec(0)),
        (1, "exclusion", sec(1)),
        (1, "step two", sec(31)),
        (1, "step one", sec(3600)),
        (1, "step two", sec(3629)),
    ]
    report = run(
        tmp_path, rows, "step one", "step two", window="30s", exclude=("exclusion",)
    ).report
    assert [s.count for s in report.steps] == [1, 1]
    assert mean_times(report) == [None, 29.0]


def test_ph_excluded_completion(tmp_path: Path) -> None:
    # PH test_excluded_completion: the only converting attempt has an exclusion inside → gone.
    rows = [
        (1, "step one", sec(0)),
        (1, "exclusion", sec(11)),
        (1, "step one", sec(12)),
        (1, "exclusion", sec(13)),
        (1, "step two", sec(14)),
    ]
    got = counts(tmp_path, rows, "step one", "step two", window="10s", exclude=("exclusion",))
    assert got == [0, 0]


def _between_steps_rows() -> Rows:
    # PH test_advanced_funnel_exclusions_between_steps.
    def person(user: int, events: list[tuple[str, int, int]]) -> Rows:
        return [(user, e, at(1, h, m)) for e, h, m in events]

    return [
        *person(1, [("user signed up", 1, 0), ("$pageview", 2, 0), ("x", 3, 0), ("insight viewed", 4, 0),
                    ("x", 4, 30), ("invite teammate", 5, 0), ("x", 5, 30), ("pageview2", 6, 0)]),
        *person(2, [("user signed up", 1, 0), ("$pageview", 2, 0), ("insight viewed", 4, 0), ("x", 4, 30),
                    ("invite teammate", 5, 0), ("x", 5, 30), ("pageview2", 6, 0)]),
        *person(3, [("user signed up", 1, 0), ("x", 1, 30), ("$pageview", 2, 0), ("insight viewed", 4, 0),
                    ("invite teammate", 5, 0), ("x", 5, 30), ("pageview2", 6, 0)]),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("exclude", "expected", "kept"),
    [
        ("x:1-2", [2, 2, 2, 2, 2], [1, 2]),  # PH funnel_from_step 0 → 1
        ("x:2-3", [2, 2, 2, 2, 2], [2, 3]),
        ("x:3-4", [1, 1, 1, 1, 1], [3]),
        ("x:4-5", [0, 0, 0, 0, 0], []),
        ("x:2-4", [1, 1, 1, 1, 1], [3]),  # "bigger step window"
    ],
)
def test_ph_exclusions_between_steps(
    tmp_path: Path, exclude: str, expected: list[int], kept: list[int]
) -> None:
    steps = ("user signed up", "$pageview", "insight viewed", "invite teammate", "pageview2")
    run_ = run(tmp_path, _between_steps_rows(), *steps, exclude=(exclude,))
    assert [s.count for s in run_.report.steps] == expected
    assert sorted(run_.units.filter(~pl.col("excluded"))["user_id"].to_list()) == [
        str(k) for k in kept
    ]


@pytest.mark.parametrize("exclude", ["exclusion:1-2", "exclusion:2-3"])
def test_ph_exclusion_at_the_same_time_as_a_step_is_ignored(tmp_path: Path, exclude: str) -> None:
    # PH test_multiple_events_same_timestamp_exclusions: PostHog runs same-timestamp events
    # without exclusions, so the person still converts.
    t1 = datetime(2024, 1, 10, 12, 1, tzinfo=UTC)
    rows: Rows = [(1, "step zero", datetime(2024, 1, 10, 12, 0, tzinfo=UTC))]
    rows += [(1, "step one", t1)] * 30 + [(1, "exclusion", t1), (1, "step two", t1)]
    rows.append((1, "step three", datetime(2024, 1, 10, 12, 2, tzinfo=UTC)))
    got = counts(
        tmp_path, rows, "step zero", "step one", "step two", "step three", exclude=(exclude,)
    )
    assert got[-1] == 1


def test_ph_exclusion_with_property_filter(tmp_path: Path) -> None:
    # PH test_exclusion_with_property_filter: exclusions "exclusion[exclude_me=true]" and
    # "exclusion[exclude_me=yes]" remove two people; "false" does not. [2, 1].
    def user(u: int, flag: str | None) -> Rows:
        rows: Rows = [(u, "step one", sec(0))]
        if flag is not None:
            rows += [(u, "exclusion", sec(1), {"exclude_me": flag}), (u, "step two", sec(2))]
        return rows

    rows = [*user(1, "true"), *user(2, "yes"), *user(3, None), *user(4, "false")]
    got = counts(
        tmp_path,
        rows,
        "step one",
        "step two",
        window="10s",
        exclude=("exclusion[exclude_me=true]", "exclusion[exclude_me=yes]"),
    )
    assert got == [2, 1]


def test_ph_exclusions_full_window(tmp_path: Path) -> None:
    # PH test_funnel_exclusions_full_window: [2, 2].
    rows = [
        (1, "user signed up", at(1, 1)),
        (1, "paid", at(1, 2)),
        (2, "user signed up", at(1, 3)),
        (2, "x 1 name with numbers 2", at(1, 3, 30)),
        (2, "paid", at(1, 4)),
        (3, "user signed up", at(1, 5)),
        (3, "paid", at(1, 6)),
    ]
    got = counts(tmp_path, rows, "user signed up", "paid", exclude=("x 1 name with numbers 2",))
    assert got == [2, 2]


def test_exclusion_between_steps_then_clean_retry(tmp_path: Path) -> None:
    # PostHog lets an excluded path go one step past the exclusion and no further: the first
    # attempt (a x b c) counts as an excluded reach of b, so the later clean a→b keeps the
    # person at step 2 instead of removing them (steps.rs: an excluded slot never fills the next).
    rows = [
        (1, "a", sec(0)),
        (1, "x", sec(1)),
        (1, "b", sec(2)),
        (1, "c", sec(3)),
        (1, "a", sec(100)),
        (1, "b", sec(101)),
    ]
    run_ = run(tmp_path, rows, "a", "b", "c", window="10s", exclude=("x:1-2",))
    assert [s.count for s in run_.report.steps] == [1, 1, 0]
    assert mean_times(run_.report) == [None, 1.0, None]


def test_excluded_newer_path_does_not_take_over_an_older_clean_one(tmp_path: Path) -> None:
    # P = a@0 b@1 reaches step 2; E = a@2 x@3 b@4 is excluded between steps 1 and 2. E may
    # still reach b, but never c, so P alone goes on to c@5 and d@6 (PostHog: 4, clean).
    rows = [
        (1, e, sec(s))
        for e, s in [("a", 0), ("b", 1), ("a", 2), ("x", 3), ("b", 4), ("c", 5), ("d", 6)]
    ]
    run_ = run(tmp_path, rows, "a", "b", "c", "d", window="100s", exclude=("x:1-2",))
    assert [s.count for s in run_.report.steps] == [1, 1, 1, 1]
    assert mean_times(run_.report) == [None, 1.0, 4.0, 1.0]


# --- any order (§1.6, §6.4) -------------------------------------------------------------------


def test_ph_big_multi_step_unordered_funnel(tmp_path: Path) -> None:
    # PH test_big_multi_step_unordered_funnel: "Completed k steps" = [8, 5, 3, 1].
    rows = [
        *in_sequence(1, "user signed up"),
        *in_sequence(2, "$pageview", "crying"),
        *in_sequence(3, "user signed up", "$pageview", "blaah blaa", "insight viewed"),
        *in_sequence(4, "insight viewed", "crying", "user signed up"),
        *in_sequence(5, "$pageview", "user signed up", "crying", "insight viewed"),
        *in_sequence(6, "blaah blaa", "insight viewed"),
        *in_sequence(7, "$pageview", "blaah blaa"),
        *in_sequence(8, "insight viewed", "$pageview"),
    ]
    steps = ("user signed up", "$pageview", "insight viewed", "crying")
    assert counts(tmp_path, rows, *steps, order="any") == [8, 5, 3, 1]
    # PostHog (and cjkit) let any step enter, so persons 2, 6, 7 and 8 count although they never
    # signed up; Amplitude's "any order" needs the first listed step to enter (no cjkit flag
    # yet). In the listed order only persons 1, 3, 4 and 5 enter, and only 3 goes on.
    assert counts(tmp_path, rows, *steps) == [4, 1, 1, 0]


def test_ph_unordered_conversion_times_first_conversion(tmp_path: Path) -> None:
    # PH test_basic_unordered_funnel_conversion_times (1-day window): the UDF times the first
    # conversion, [5400, 7200]; the legacy SQL averaged all conversions, [6300, 9000].
    rows = [
        (1, "user signed up", at(2)),
        (2, "$pageview", at(2)),
        (2, "user signed up", at(2, 1)),
        (3, "insight viewed", at(2)),
        (3, "user signed up", at(2, 2)),
        (3, "$pageview", at(2, 4)),
        (3, "$pageview", at(3)),
        (3, "insight viewed", at(3, 3)),
        (3, "user signed up", at(3, 6)),
    ]
    report = run(
        tmp_path, rows, "user signed up", "$pageview", "insight viewed", order="any", window="1d"
    ).report
    assert [s.count for s in report.steps] == [3, 2, 1]
    assert mean_times(report) == [None, 5400.0, 7200.0]


def test_any_order_earliest_window_start(tmp_path: Path) -> None:
    # PostHog's unordered deque keeps each step's earliest event inside the window that first
    # completes the funnel: a@0 a@5 b@8 times 8 s, not 3 s.
    rows = [(1, "a", sec(0)), (1, "a", sec(5)), (1, "b", sec(8))]
    report = run(tmp_path, rows, "a", "b", order="any", window="10s").report
    assert mean_times(report) == [None, 8.0]


def test_any_order_exclusions_whole_funnel_only(tmp_path: Path) -> None:
    rows = [(1, "a", sec(0)), (1, "b", sec(1))]
    with pytest.raises(UsageError, match="whole-funnel exclusions"):
        run(tmp_path, rows, "a", "b", "c", order="any", exclude=("x:1-2",))


def test_any_order_exclusion_removes_the_unit_like_ordered(tmp_path: Path) -> None:
    # PH test_funnel_exclusions_full_window (unordered) keeps person 2 at step 1: [3, 2].
    # semantics.md §1.5 calls that inconsistent with ordered funnels; cjkit removes the person
    # in both orders: [2, 2].
    rows = [
        (1, "user signed up", at(1, 1)),
        (1, "paid", at(1, 2)),
        (2, "user signed up", at(1, 3)),
        (2, "x", at(1, 3, 30)),
        (2, "paid", at(1, 4)),
        (3, "user signed up", at(1, 5)),
        (3, "paid", at(1, 6)),
    ]
    assert counts(tmp_path, rows, "user signed up", "paid", order="any", exclude=("x",)) == [2, 2]


# --- counting units: --aggregate-by ---------------------------------------------------------


def test_ph_aggregate_by_session(tmp_path: Path) -> None:
    # PH test_hogql_aggregation: by person [2, 1, 1]; by $session_id [3, 2, 1].
    rows: Rows = [
        (1, "user signed up", sec(0), {"session_id": "1"}),
        (1, "added to cart", sec(1), {"session_id": "1"}),
        (1, "checked out", sec(2), {"session_id": "1"}),
        (1, "user signed up", sec(3), {"session_id": "2"}),
        (1, "added to cart", sec(4), {"session_id": "2"}),
        (2, "user signed up", sec(5), {"session_id": "3"}),
    ]
    steps = ("user signed up", "added to cart", "checked out")
    assert counts(tmp_path, rows, *steps) == [2, 1, 1]
    run_ = run(tmp_path, rows, *steps, aggregate_by="session_id")
    assert [s.count for s in run_.report.steps] == [3, 2, 1]
    assert run_.report.settings["unit"] == "session_id"
    assert sorted(run_.units["session_id"].to_list()) == [1, 2, 3]


# --- breakdowns and attribution -------------------------------------------------------------


def _attribution_rows() -> Rows:
    # PH test_breakdown_step_attributions (30-second window).
    return [
        (1, "step one", sec(0), {"browser": "Chrome"}),
        (1, "step two", sec(1), {"browser": "Safari"}),
        (1, "step two", sec(2), {"browser": "Chrome"}),
        (1, "step three", sec(3), {"browser": "Chrome"}),
    ]


@pytest.mark.parametrize(
    ("attribution", "value"),
    [
        ("first", "Chrome"),
        ("last", "Chrome"),
        ("step:1", "Chrome"),
        ("step:2", "Safari"),
        ("step:3", "Chrome"),
    ],
)
def test_breakdown_attribution(tmp_path: Path, attribution: str, value: str) -> None:
    # PH: first touch and steps 1/3 give Chrome [1, 1, 1]. With step 2 PostHog reports the person
    # under both values (it reruns the funnel per value); cjkit counts each unit once, under
    # the value on its attempt's step-2 event (Safari), so groups add up to the total.
    report = run(
        tmp_path,
        _attribution_rows(),
        "step one",
        "step two",
        "step three",
        window="30s",
        by=("browser",),
        attribution=attribution,
    ).report
    assert [g.value for g in report.groups] == [value]
    assert [s.count for s in report.groups[0].steps] == [1, 1, 1]


def test_breakdown_groups_by_step_one_value(tmp_path: Path) -> None:
    rows: Rows = [
        (1, "a", sec(0), {"channel": "ads"}),
        (1, "b", sec(1), {"channel": "email"}),
        (2, "a", sec(0), {"channel": "ads"}),
        (3, "a", sec(0), {"channel": "seo"}),
        (3, "b", sec(1), {"channel": "seo"}),
        (4, "a", sec(0), {}),
    ]
    report = run(tmp_path, rows, "a", "b", by=("channel",)).report
    got = {g.value: [s.count for s in g.steps] for g in report.groups}
    assert got == {"ads": [2, 1], "seo": [1, 1], None: [1, 0]}
    assert [s.count for s in report.steps] == [4, 2]


def test_attribution_step_beyond_the_funnel_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="step:N"):
        run(
            tmp_path,
            _attribution_rows(),
            "step one",
            "step two",
            by=("browser",),
            attribution="step:3",
        )


# --- date range: step 1 in range, later steps may follow (§6.8) -----------------------------


def test_since_until_apply_to_step_one_only(tmp_path: Path) -> None:
    # AMP/MP: only step 1 must be in the range; a later step after --until still counts within
    # the window. PostHog clips every step to the range (it would give [2, 1]); no flag yet.
    rows = [
        (1, "a", at(1, 12)),
        (1, "b", at(3, 12)),  # after --until, inside the 14-day window
        (2, "a", at(2, 12)),
        (2, "b", at(2, 13)),
        (3, "a", at(4)),  # step 1 after --until: not in the funnel
        (4, "a", at(1)),
        (4, "a", at(2)),
    ]
    got = counts(tmp_path, rows, "a", "b", since="2021-05-01", until="2021-05-02")
    assert got == [3, 2]
    got = counts(tmp_path, rows, "a", "b", since="2021-05-02T00:00:00", until="2021-05-02")
    assert got == [2, 1]


# --- first-time steps (§1.4) ------------------------------------------------------------------


def _first_time_map(tmp_path: Path) -> str:
    path = tmp_path / "first_time.yaml"
    path.write_text(
        "id: first_pageview\n"
        "name: First pageview\n"
        "stages:\n"
        "  - {id: first_visit, name: First visit, events: [$pageview], first_time: true}\n"
        "  - {id: next_visit, name: Next visit, events: [$pageview]}\n",
        encoding="utf-8",
    )
    return str(path)


def test_ph_first_time_for_user(tmp_path: Path) -> None:
    # PH test_first_time_for_user_funnel_multiple_ids: the first-ever pageview counts over all
    # history, so person 1 (first pageview a year earlier) is out of the one-day range: [2, 1];
    # over the whole year: [3, 1].
    rows = [
        (1, "$pageview", datetime(2024, 3, 22, 13, tzinfo=UTC)),
        (1, "$pageview", datetime(2024, 3, 22, 14, tzinfo=UTC)),
        (1, "$pageview", datetime(2023, 3, 22, 13, tzinfo=UTC)),
        (2, "$pageview", datetime(2024, 3, 22, 13, tzinfo=UTC)),
        (2, "$pageview", datetime(2024, 3, 22, 14, tzinfo=UTC)),
        (3, "$pageview", datetime(2024, 3, 22, 15, tzinfo=UTC)),
    ]
    path = write(tmp_path, rows)
    model = _first_time_map(tmp_path)
    day = api.funnel([path], api.FunnelOptions(model=model, since="2024-03-22", until="2024-03-22"))
    assert [s.count for s in day.report.steps] == [2, 1]
    year = api.funnel(
        [path], api.FunnelOptions(model=model, since="2023-03-22", until="2024-03-22")
    )
    assert [s.count for s in year.report.steps] == [3, 1]


# --- time to convert (§1.7) -------------------------------------------------------------------


def test_ph_step_conversion_times(tmp_path: Path) -> None:
    # PH test_funnel_step_conversion_times: mean [–, 6000, 5400], median [–, 7200, 5400].
    rows = [
        (1, "sign up", datetime(2020, 1, 1, 12, tzinfo=UTC)),
        (1, "play movie", datetime(2020, 1, 1, 13, tzinfo=UTC)),
        (1, "buy", datetime(2020, 1, 1, 15, tzinfo=UTC)),
        (2, "sign up", datetime(2020, 1, 2, 14, tzinfo=UTC)),
        (2, "play movie", datetime(2020, 1, 2, 16, tzinfo=UTC)),
        (3, "sign up", datetime(2020, 1, 2, 14, tzinfo=UTC)),
        (3, "play movie", datetime(2020, 1, 2, 16, tzinfo=UTC)),
        (3, "buy", datetime(2020, 1, 2, 17, tzinfo=UTC)),
    ]
    for order in ("ordered", "strict", "any"):
        report = run(
            tmp_path, rows, "sign up", "play movie", "buy", window="7d", order=order
        ).report
        assert mean_times(report) == [None, 6000.0, 5400.0], order
        assert median_times(report) == [None, 7200.0, 5400.0], order
        assert report.steps[1].time_to_convert is not None
        assert report.steps[1].time_to_convert.p90_s == pytest.approx(7200.0)


def test_ph_time_of_the_first_full_conversion(tmp_path: Path) -> None:
    # PH test_funnel_with_multiple_incomplete_tries: 1 hour; later incomplete tries are ignored.
    rows = [
        (1, "user signed up", at(1, 1)),
        (1, "$pageview", at(1, 2)),
        (1, "something else", at(1, 3)),
        (1, "user signed up", at(3, 4)),
        (1, "$pageview", at(3, 5)),
        (1, "user signed up", at(4, 7)),
        (1, "$pageview", at(4, 10)),
    ]
    report = run(
        tmp_path, rows, "user signed up", "$pageview", "something else", window="1d"
    ).report
    assert [s.count for s in report.steps] == [1, 1, 1]
    assert mean_times(report) == [None, 3600.0, 3600.0]
    assert median_times(report) == [None, 3600.0, 3600.0]


def test_ph_times_with_different_conversion_windows(tmp_path: Path) -> None:
    # PH test_funnel_times_with_different_conversion_windows: [3, 2] in 600 s; 5 minutes: [3, 1] in 300 s.
    d = datetime(2020, 1, 2, tzinfo=UTC)
    rows = [
        (1, "user signed up", d.replace(hour=14)),
        (1, "pageview", d.replace(hour=14, minute=5)),
        (2, "user signed up", d.replace(hour=14, minute=3)),
        (3, "user signed up", d.replace(hour=12)),
        (3, "pageview", d.replace(hour=12, minute=15)),
    ]
    report = run(tmp_path, rows, "user signed up", "pageview").report
    assert [s.count for s in report.steps] == [3, 2]
    assert mean_times(report) == [None, 600.0]
    report = run(tmp_path, rows, "user signed up", "pageview", window="5m").report
    assert [s.count for s in report.steps] == [3, 1]
    assert mean_times(report) == [None, 300.0]


def test_zero_second_gaps_count_in_the_time_to_convert(tmp_path: Path) -> None:
    # cjkit includes zero gaps (semantics.md §1.8); PostHog drops them (its mean would be 60).
    rows = [(1, "a", sec(0)), (1, "b", sec(0)), (2, "a", sec(0)), (2, "b", sec(60))]
    report = run(tmp_path, rows, "a", "b").report
    assert mean_times(report) == [None, 30.0]


def test_ph_window_ignores_dst(tmp_path: Path) -> None:
    # PH test_funnel_window_ignores_dst_transition: 14 fixed days across the US/Pacific switch.
    rows = [
        (1, "$pageview", datetime(2024, 3, 1, 15, 10, tzinfo=UTC)),
        (1, "user signed up", datetime(2024, 3, 15, 14, 27, tzinfo=UTC)),
    ]
    for tz in ("UTC", "US/Pacific"):
        report = run(
            tmp_path, rows, "$pageview", "user signed up", since="2024-02-17", until="2024-03-18",
            read=api.ReadOptions(tz=tz),
        ).report  # fmt: skip
        assert [s.count for s in report.steps] == [1, 1]
        assert mean_times(report) == [None, 1_207_020.0]


# --- rates -------------------------------------------------------------------------------------


def test_rates_drop_off_and_wilson_intervals(tmp_path: Path) -> None:
    rows = [(u, "a", sec(0)) for u in range(10)] + [(u, "b", sec(1)) for u in range(4)]
    report = run(tmp_path, rows, "a", "b", "c").report
    first, second, third = report.steps
    assert (first.count, second.count, third.count) == (10, 4, 0)
    assert first.conversion_from_previous == 1.0
    assert second.conversion_from_previous == pytest.approx(0.4)
    assert second.conversion_from_start == pytest.approx(0.4)
    assert third.conversion_from_previous == 0.0
    assert (second.drop_off, third.drop_off) == (6, 4)
    ci = second.ci["conversion_from_previous"]
    assert ci is not None
    assert ci["low"] == pytest.approx(0.1682, abs=1e-4)
    assert ci["high"] == pytest.approx(0.6873, abs=1e-4)
    assert third.time_to_convert is None


def test_zero_denominators_give_none(tmp_path: Path) -> None:
    rows = [(1, "other", sec(0))]
    report = run(tmp_path, rows, "a", "b").report
    assert [s.count for s in report.steps] == [0, 0]
    assert report.steps[1].conversion_from_previous is None
    assert report.steps[1].conversion_from_start is None
    assert report.steps[1].ci["conversion_from_previous"] is None
