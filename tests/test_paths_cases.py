"""Paths on hand-built logs, with the expected paths written out by hand.

Most cases transcribe PostHog's tests (``posthog/hogql_queries/insights/paths/test/
test_paths_query_runner_ee.py``): test_step_limit, test_step_conversion_times, test_end,
test_start_and_end, test_removes_duplicates, test_respect_session_limits,
test_wildcard_groups_across_people (as a regex), test_person_dropoffs and
test_path_by_funnel_after_dropoff.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from cjkit.api.core import FunnelOptions
from cjkit.api.paths import PathsOptions, paths
from cjkit.errors import InputError, UsageError
from cjkit.render import to_csv, to_markdown, to_table

T0 = datetime(2021, 5, 1, tzinfo=UTC)
MIN = 60.0


def _write(tmp_path: Path, rows: list[tuple[Any, ...]], name: str = "events.parquet") -> str:
    """Write (user, event, seconds after T0[, url]) rows as a Parquet file."""
    frame = pl.DataFrame(
        {
            "user_id": [r[0] for r in rows],
            "event": [r[1] for r in rows],
            "timestamp": [T0 + timedelta(seconds=r[2]) for r in rows],
            "url": [r[3] if len(r) > 3 else None for r in rows],
        },
        schema_overrides={"timestamp": pl.Datetime("us", "UTC"), "url": pl.String},
    )
    path = tmp_path / name
    frame.write_parquet(path)
    return str(path)


def _links(report: Any) -> list[tuple[str, str, int, float | None]]:
    return [
        (d["source"], d["target"], d["value"], d["mean_time_s"])
        for d in (link.to_dict() for link in report.links)
    ]


def _pages(user: str, urls: list[str], minutes: list[float]) -> list[tuple[Any, ...]]:
    return [(user, "$pageview", m * MIN, u) for u, m in zip(urls, minutes, strict=True)]


PV = ("$pageview=url",)


def test_step_limit(tmp_path: Path) -> None:
    # PostHog test_step_limit: /1 /2 /3 /4 at 0, 1, 3, 6 minutes.
    src = _write(tmp_path, _pages("fake", ["/1", "/2", "/3", "/4"], [0, 1, 3, 6]))
    two = paths([src], PathsOptions(steps=2, nodes=PV))
    assert _links(two) == [("1_/1", "2_/2", 1, 60.0)]
    four = paths([src], PathsOptions(steps=4, nodes=PV))
    assert _links(four) == [
        ("1_/1", "2_/2", 1, 60.0),
        ("2_/2", "3_/3", 1, 120.0),
        ("3_/3", "4_/4", 1, 180.0),
    ]


def test_conversion_times_average_over_paths(tmp_path: Path) -> None:
    # PostHog test_step_conversion_times.
    rows = _pages("fake", ["/1", "/2", "/3", "/4"], [0, 1, 3, 6]) + _pages(
        "fake2", ["/1", "/2", "/3"], [0, 2, 6]
    )
    report = paths([_write(tmp_path, rows)], PathsOptions(steps=4, nodes=PV))
    assert _links(report) == [
        ("1_/1", "2_/2", 2, 90.0),
        ("2_/2", "3_/3", 2, 180.0),
        ("3_/3", "4_/4", 1, 180.0),
    ]
    assert [link.median_time_s for link in report.links] == [90.0, 180.0, 180.0]


def _end_rows() -> list[tuple[Any, ...]]:
    return (
        _pages("p1", ["/1", "/2", "/3/", "/4/", "/5", "/about", "/after/"], [1, 2, 3, 4, 5, 6, 7])
        + _pages("p2", ["/5", "/about"], [1, 2])
        + _pages("p3", ["/3/", "/4", "/about/", "/after"], [1, 2, 3, 4])
    )


@pytest.mark.parametrize("end", ["/about", "/about/"])
def test_end_point_keeps_the_last_steps(tmp_path: Path, end: str) -> None:
    # PostHog test_end: trailing slashes on URLs and on the end point don't matter.
    report = paths([_write(tmp_path, _end_rows())], PathsOptions(end=end, nodes=PV))
    assert _links(report) == [
        ("1_/2", "2_/3", 1, 60.0),
        ("1_/3", "2_/4", 1, 60.0),
        ("1_/5", "2_/about", 1, 60.0),
        ("2_/3", "3_/4", 1, 60.0),
        ("2_/4", "3_/about", 1, 60.0),
        ("3_/4", "4_/5", 1, 60.0),
        ("4_/5", "5_/about", 1, 60.0),
    ]


def test_start_and_end_with_ellipsis(tmp_path: Path) -> None:
    # PostHog test_start_and_end.
    src = _write(tmp_path, _end_rows())
    short = paths([src], PathsOptions(start="/5", end="/about", nodes=PV))
    assert _links(short) == [("1_/5", "2_/about", 2, 60.0)]
    long = paths([src], PathsOptions(start="/2", end="/about", steps=4, nodes=PV))
    assert _links(long) == [
        ("1_/2", "2_/3", 1, 60.0),
        ("2_/3", "3_...", 1, 60.0),
        ("3_...", "4_/5", 1, 60.0),
        ("4_/5", "5_/about", 1, 60.0),
    ]


def test_start_point_cuts_at_the_first_occurrence(tmp_path: Path) -> None:
    # a b a c: from the first a, the later a stays in the path.
    rows = [("u", e, i * 10) for i, e in enumerate(["x", "a", "b", "a", "c"])]
    report = paths([_write(tmp_path, rows)], PathsOptions(start="a"))
    assert [p.nodes for p in report.paths] == [["a", "b", "a", "c"]]


def test_repeats_collapse_to_the_last_time(tmp_path: Path) -> None:
    # PostHog test_removes_duplicates: /1 /1 /2 /2/ /3, the kept times are the runs' last ones.
    rows = _pages("fake", ["/1", "/1", "/2", "/2/", "/3"], [0, 1 / 3, 1, 4 / 3, 10 / 3]) + _pages(
        "fake2", ["/1", "/2/", "/3"], [0, 2, 6]
    )
    report = paths([_write(tmp_path, rows)], PathsOptions(nodes=PV))
    assert _links(report) == [("1_/1", "2_/2", 2, 90.0), ("2_/2", "3_/3", 2, 180.0)]


def test_sessions_split_at_exactly_the_gap(tmp_path: Path) -> None:
    # PostHog test_respect_session_limits (a new day, a new session), plus a gap of exactly
    # 30 minutes, which splits, and 30 minutes less a second, which doesn't.
    rows = [
        ("u", "a", 0),
        ("u", "b", 1800),  # exactly the timeout: a new path
        ("u", "c", 1800 + 1799),  # just under: same path
        ("v", "a", 0),
        ("v", "b", 60),
    ]
    report = paths([_write(tmp_path, rows)], PathsOptions(session="30m"))
    assert sorted(tuple(p.nodes) for p in report.paths) == [("a",), ("a", "b"), ("b", "c")]
    assert report.total_paths == 3
    assert report.total_units == 2
    whole = paths([_write(tmp_path, rows, "b.parquet")], PathsOptions())
    assert sorted(tuple(p.nodes) for p in whole.paths) == [("a", "b"), ("a", "b", "c")]


def test_cleaning_groups_names(tmp_path: Path) -> None:
    # PostHog test_wildcard_groups_across_people, as a regex rule.
    rows = (
        _pages("p1", ["/1", "/2/bar/1/foo", "/3"], [0, 1, 3])
        + _pages("p2", ["/1", "/bar/2/foo", "/3"], [0, 1, 3])
        + _pages("p3", ["/1", "/bar/33/foo", "/3"], [0, 1, 3])
    )
    report = paths(
        [_write(tmp_path, rows)],
        PathsOptions(steps=4, nodes=PV, clean=(r"^.*/bar/\d+/foo$=>/bar/*/foo",)),
    )
    assert _links(report) == [("1_/1", "2_/bar/*/foo", 3, 60.0), ("2_/bar/*/foo", "3_/3", 3, 120.0)]


def test_drop_off_per_node(tmp_path: Path) -> None:
    # PostHog test_person_dropoffs: 5 stop at step two, 10 at three, 20 at four.
    rows: list[tuple[Any, ...]] = []
    names = ["step one", "step two", "step three", "step four"]
    seconds = [0, 240, 300, 360]
    for i in range(35):
        last = 2 if i < 5 else (3 if i < 15 else 4)
        rows += [(f"user_{i}", names[j], seconds[j]) for j in range(last)]
    report = paths([_write(tmp_path, rows)], PathsOptions())
    by_key = {(n.step, n.node): n for n in report.nodes}
    assert (by_key[(2, "step two")].paths, by_key[(2, "step two")].drop_off) == (35, 5)
    assert (by_key[(3, "step three")].paths, by_key[(3, "step three")].drop_off) == (30, 10)
    assert (by_key[(4, "step four")].paths, by_key[(4, "step four")].drop_off) == (20, 20)


def _dropoff_rows() -> list[tuple[Any, ...]]:
    # PostHog _create_sample_data_multiple_dropoffs (seconds after midnight).
    rows: list[tuple[Any, ...]] = []
    full = [
        ("step one", 0),
        ("between_step_1_a", 60),
        ("between_step_1_b", 120),
        ("between_step_1_c", 180),
        ("step two", 240),
        ("step three", 300),
    ]
    two = [
        ("step one", 0),
        ("between_step_1_a", 60),
        ("between_step_1_b", 120),
        ("step two", 180),
        ("between_step_2_a", 260),
        ("between_step_2_b", 340),
    ]
    for i in range(5):
        rows += [(f"user_{i}", e, s) for e, s in full]
    for i in range(5, 15):
        rows += [(f"user_{i}", e, s) for e, s in two]
    for i in range(15, 35):
        branch = [("step one", 0), ("step dropoff1", 60), ("step dropoff2", 120)]
        rows += [(f"user_{i}", e, s) for e, s in branch]
        if i % 2 == 0:
            rows.append((f"user_{i}", "step branch", 180))
    return rows


FUNNEL = FunnelOptions(steps=("step one", "step two", "step three"), window="7d")


def test_funnel_after_drop_off(tmp_path: Path) -> None:
    # PostHog test_path_by_funnel_after_dropoff: the 20 who did step one but not step two.
    report = paths([_write(tmp_path, _dropoff_rows())], PathsOptions(funnel_step=-2, funnel=FUNNEL))
    assert _links(report) == [
        ("1_step one", "2_step dropoff1", 20, 60.0),
        ("2_step dropoff1", "3_step dropoff2", 20, 60.0),
        ("3_step dropoff2", "4_step branch", 10, 60.0),
    ]
    assert report.total_units == 20


def test_funnel_between_steps(tmp_path: Path) -> None:
    # PostHog's between-steps test: events from step one to step two, for those who reached it.
    report = paths(
        [_write(tmp_path, _dropoff_rows())],
        PathsOptions(funnel_step=2, funnel_mode="between", funnel=FUNNEL),
    )
    assert _links(report) == [
        ("1_step one", "2_between_step_1_a", 15, 60.0),
        ("2_between_step_1_a", "3_between_step_1_b", 15, 60.0),
        ("3_between_step_1_b", "4_step two", 10, 60.0),
        ("3_between_step_1_b", "4_between_step_1_c", 5, 60.0),
        ("4_between_step_1_c", "5_step two", 5, 60.0),
    ]


def test_funnel_after_and_before_a_step(tmp_path: Path) -> None:
    src = _write(tmp_path, _dropoff_rows())
    after = paths([src], PathsOptions(funnel_step=3, funnel=FUNNEL))
    assert [p.nodes for p in after.paths] == [["step three"]]
    # Before: from the unit's first event up to step three; the step limit keeps the first 5.
    before = paths([src], PathsOptions(funnel_step=3, funnel_mode="before", funnel=FUNNEL))
    assert before.paths[0].nodes == [
        "step one",
        "between_step_1_a",
        "between_step_1_b",
        "between_step_1_c",
        "step two",
    ]
    six = paths([src], PathsOptions(steps=6, funnel_step=3, funnel_mode="before", funnel=FUNNEL))
    assert six.paths[0].nodes[-1] == "step three"
    assert six.total_units == 5


def test_step_matrix_and_transitions(tmp_path: Path) -> None:
    # Paths a b c, a b, a c: matrix columns sum to 1 with path_end.
    rows = [
        ("u1", "a", 0),
        ("u1", "b", 10),
        ("u1", "c", 20),
        ("u2", "a", 0),
        ("u2", "b", 30),
        ("u3", "a", 0),
        ("u3", "c", 40),
    ]
    report = paths([_write(tmp_path, rows)], PathsOptions(steps=3, matrix=True, transitions=True))
    assert report.step_matrix is not None
    rows_ = dict(report.step_matrix.rows)
    assert rows_["a"] == [1.0, 0.0, 0.0]
    assert rows_["b"] == pytest.approx([0.0, 2 / 3, 0.0])
    assert rows_["c"] == pytest.approx([0.0, 1 / 3, 1 / 3])
    assert rows_["path_end"] == pytest.approx([0.0, 0.0, 2 / 3])
    trans = {(t.source, t.target): t for t in report.transitions or []}
    assert trans[("path_start", "a")].count == 3
    assert trans[("path_start", "a")].median_time_s is None
    assert trans[("a", "b")].proba_out == pytest.approx(2 / 3)
    assert trans[("a", "b")].median_time_s == 20.0
    assert trans[("b", "path_end")].count == 1
    assert trans[("c", "path_end")].unique_paths == 2


def test_differential_matrix(tmp_path: Path) -> None:
    rows = [("u1", "a", 0, "x"), ("u1", "b", 10, "x"), ("u2", "a", 0, "y"), ("u2", "c", 10, "y")]
    report = paths([_write(tmp_path, rows)], PathsOptions(steps=2, matrix=True, diff_by="url=x"))
    assert report.step_matrix is not None
    assert report.step_matrix.diff is not None
    shares = dict(report.step_matrix.rows)
    assert shares["b"] == [0.0, 1.0]
    assert shares["c"] == [0.0, -1.0]
    assert shares["a"] == [0.0, 0.0]


def test_outputs_json_csv_table(tmp_path: Path) -> None:
    rows = [("u1", "a", 0), ("u1", "b", 10), ("u2", "a", 0), ("u2", "b", 20), ("u3", "c", 0)]
    report = paths([_write(tmp_path, rows)], PathsOptions(matrix=True, transitions=True))
    doc = report.to_dict()
    assert doc["kind"] == "paths"
    assert doc["schema_version"] >= 1
    assert doc["links"] == [
        {
            "source": "1_a",
            "target": "2_b",
            "value": 2,
            "units": 2,
            "mean_time_s": 15.0,
            "median_time_s": 15.0,
            "step": 2,
        }
    ]
    assert set(doc) >= {"settings", "links", "nodes", "paths", "step_matrix", "transitions"}
    assert to_csv(report.to_rows()).splitlines()[1].startswith("2,a,b,1_a,2_b,2,2,")
    text = to_table(report, color=False, width=100)
    assert "a → b" in text
    assert "path_end" in text
    assert "| 1 | a → b |" in to_markdown(report)


@pytest.mark.parametrize(
    ("options", "error", "needle"),
    [
        (PathsOptions(steps=0), UsageError, "--steps"),
        (PathsOptions(session="0.4s"), UsageError, "--session"),
        (PathsOptions(clean=("a(b=>x",)), UsageError, "position 1"),
        (PathsOptions(clean=("nope",)), UsageError, "REGEX=>ALIAS"),
        (PathsOptions(start="abc"), InputError, "did you mean 'abd'"),
        (
            PathsOptions(funnel_step=4, funnel=FunnelOptions(steps=("abd", "b"))),
            UsageError,
            "-2..-2",
        ),
        (
            PathsOptions(funnel_step=-1, funnel=FunnelOptions(steps=("abd", "b"))),
            UsageError,
            "--funnel-step -1",
        ),
        (PathsOptions(diff_by="x=1"), UsageError, "--matrix"),
    ],
)
def test_bad_input_is_one_line(
    tmp_path: Path, options: PathsOptions, error: type, needle: str
) -> None:
    src = _write(tmp_path, [("u", "abd", 0), ("u", "b", 5)])
    with pytest.raises(error) as info:
        paths([src], options)
    assert needle in str(info.value)
    assert "\n" not in str(info.value)


def test_unknown_event_names_warn(tmp_path: Path) -> None:
    src = _write(tmp_path, [("u", "visit", 0), ("u", "buy", 5)])
    report = paths([src], PathsOptions(include=("visit", "vist"), exclude=("nope",)))
    assert report.warnings == [
        "--include vist: no such event in the data; did you mean 'visit'?",
        "--exclude nope: no such event in the data",
    ]
    assert [p.nodes for p in report.paths] == [["visit"]]
