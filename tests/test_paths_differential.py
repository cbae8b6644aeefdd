"""The paths engine against a plain-Python reference, and its invariants, on hypothesis logs.

The reference below walks each unit's events one by one, exactly as PostHog's paths query
describes them (``docs/metrics.md``, "Paths"): sort by (time, name), split sessions at gaps of at
least the timeout, collapse runs keeping the last time, cut at the first start point and the
first end point after it, apply the step limit (with a ``...`` node when both points are set).
Links, nodes, top paths and transitions must agree exactly. Invariants: edge counts out of a
node never exceed the paths into it; step-matrix columns sum to 1 with the path_end row; the
result does not depend on row order or on the number of unit passes.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from statistics import median
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cjkit.engine.paths import summary
from cjkit.engine.paths.sequences import PathSpec, Sequences, sequences

T0 = datetime(2025, 3, 1, tzinfo=UTC)
US = 1_000_000
EVENTS = ["a", "b", "c", "d"]
Path_ = list[tuple[str, int]]


def _frame(rows: list[tuple[str, str, int]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "user_id": [r[0] for r in rows],
            "event": [r[1] for r in rows],
            "timestamp": [T0 + timedelta(seconds=r[2]) for r in rows],
        },
        schema={"user_id": pl.String, "event": pl.String, "timestamp": pl.Datetime("us", "UTC")},
    )


def _cut(path: Path_, spec: PathSpec) -> Path_ | None:
    if spec.start is not None:
        if all(n != spec.start for n, _ in path):
            return None
        path = path[[n for n, _ in path].index(spec.start) :]
    if spec.end is not None:
        if all(n != spec.end for n, _ in path):
            return None
        path = path[: [n for n, _ in path].index(spec.end) + 1]
    return path


def _limit(path: Path_, spec: PathSpec) -> Path_:
    n = spec.steps
    if spec.start is not None and spec.end is not None:
        if len(path) <= n:
            return path
        h = n // 2
        return [*path[:h], ("...", path[h][1]), *path[len(path) - h :]]
    return path[-n:] if spec.end is not None else path[:n]


def reference(rows: list[tuple[str, str, int]], spec: PathSpec) -> list[tuple[str, Path_, Path_]]:
    """Return (unit, whole segment, limited path) per path, walking events one at a time."""
    by_unit: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for unit, event, sec in rows:
        by_unit[unit].append((sec * US, event))
    out = []
    for unit, events in by_unit.items():
        events.sort()
        sessions: list[list[tuple[str, int]]] = [[]]
        for i, (t, name) in enumerate(events):
            gap = spec.session_s is not None and i and t - events[i - 1][0] >= spec.session_s * US
            if gap:
                sessions.append([])
            sessions[-1].append((name, t))
        for raw in sessions:
            collapsed = [p for i, p in enumerate(raw) if i + 1 == len(raw) or raw[i + 1][0] != p[0]]
            seg = _cut(collapsed, spec)
            if seg:
                out.append((unit, seg, _limit(seg, spec)))
    return out


def _engine(rows: list[tuple[str, str, int]], spec: PathSpec, passes: int = 1) -> Sequences:
    return sequences(_frame(rows).lazy(), spec, lambda f: f.collect(), passes)


def _ref_links(paths: list[tuple[str, Path_, Path_]]) -> dict[tuple[int, str, str], Any]:
    acc: dict[tuple[int, str, str], list[Any]] = defaultdict(lambda: [0, set(), []])
    for unit, _, p in paths:
        for k in range(2, len(p) + 1):
            entry = acc[(k, p[k - 2][0], p[k - 1][0])]
            entry[0] += 1
            entry[1].add(unit)
            entry[2].append((p[k - 1][1] - p[k - 2][1]) / US)
    return {key: (v[0], len(v[1]), sum(v[2]) / len(v[2]), median(v[2])) for key, v in acc.items()}


def _links(seqs: Sequences) -> dict[tuple[int, str, str], Any]:
    kept, _ = summary.links(seqs, summary.Pruning(top=10**9, min_units=1))
    return {
        (x.step, x.source, x.target): (x.value, x.units, x.mean_time_s, x.median_time_s)
        for x in kept
    }


def _ref_transitions(paths: list[tuple[str, Path_, Path_]]) -> dict[tuple[str, str], Any]:
    acc: dict[tuple[str, str], list[Any]] = defaultdict(lambda: [0, set(), []])
    for i, (_, seg, _) in enumerate(paths):
        nodes = ["path_start", *[n for n, _ in seg], "path_end"]
        for j in range(1, len(nodes)):
            entry = acc[(nodes[j - 1], nodes[j])]
            entry[0] += 1
            entry[1].add(i)
            if 1 < j < len(nodes) - 1:
                entry[2].append((seg[j - 1][1] - seg[j - 2][1]) / US)
    out_total = Counter[str]()
    for (src, _), v in acc.items():
        out_total[src] += v[0]
    return {
        key: (v[0], len(v[1]), v[0] / out_total[key[0]], median(v[2]) if v[2] else None)
        for key, v in acc.items()
    }


rows_strategy = st.lists(
    st.tuples(
        st.sampled_from(["u1", "u2", "u3", "u4"]),
        st.sampled_from(EVENTS),
        # Multiples of 5 minutes make gaps of exactly the session timeout common.
        st.one_of(st.integers(0, 4000), st.integers(0, 13).map(lambda x: x * 300)),
    ),
    min_size=0,
    max_size=40,
)
spec_strategy = st.builds(
    PathSpec,
    steps=st.integers(min_value=1, max_value=6),
    session_s=st.sampled_from([None, 1800, 600]),
    start=st.sampled_from([None, "a", "b"]),
    end=st.sampled_from([None, "c", "a"]),
    transitions=st.just(True),
)
SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


BOUNDARY = [("u1", "a", 0), ("u1", "b", 1800), ("u1", "b", 3599), ("u1", "a", 3600)]


@SETTINGS
@given(rows=rows_strategy, spec=spec_strategy)
@example(rows=BOUNDARY, spec=PathSpec(session_s=1800, transitions=True))
@example(
    rows=BOUNDARY, spec=PathSpec(session_s=1799, start="b", end="a", steps=1, transitions=True)
)
def test_engine_matches_reference(rows: list[tuple[str, str, int]], spec: PathSpec) -> None:
    ref = reference(rows, spec)
    seqs = _engine(rows, spec)
    assert seqs.paths == len(ref)
    assert seqs.units == len({u for u, _, _ in ref})
    got, want = _links(seqs), _ref_links(ref)
    assert got.keys() == want.keys()
    for key, (value, units, mean, med) in want.items():
        assert got[key][:2] == (value, units)
        assert got[key][2] == pytest.approx(mean)
        assert got[key][3] == pytest.approx(med)
    tops = summary.top_paths(seqs, spec.steps, 10**9)
    assert Counter({tuple(p.nodes): p.paths for p in tops}) == Counter(
        tuple(n for n, _ in p) for _, _, p in ref
    )
    trans = {(t.source, t.target): t for t in summary.transitions(seqs)}
    ref_trans = _ref_transitions(ref)
    assert trans.keys() == ref_trans.keys()
    for key, (count, unique, proba, med) in ref_trans.items():
        t = trans[key]
        assert (t.count, t.unique_paths) == (count, unique)
        assert t.proba_out == pytest.approx(proba)
        assert t.median_time_s == (pytest.approx(med) if med is not None else None)


@SETTINGS
@given(rows=rows_strategy, spec=spec_strategy, seed=st.randoms(use_true_random=False))
def test_invariants(rows: list[tuple[str, str, int]], spec: PathSpec, seed: Any) -> None:
    seqs = _engine(rows, spec)
    kept, _ = summary.links(seqs, summary.Pruning(top=10**9))
    nodes = {(n.step, n.node): n for n in summary.nodes(seqs, kept, 10**9)}
    out_of: Counter[tuple[int, str]] = Counter()
    for link in kept:
        out_of[(link.step - 1, link.source)] += link.value
    for key, total in out_of.items():
        node = nodes[key]
        # Out of a node: never more than the paths there, and exactly those that go on.
        assert total == node.paths - node.drop_off <= node.paths
    matrix = summary.step_matrix(seqs, spec.steps)
    if matrix.paths:
        for k in range(spec.steps):
            assert sum(shares[k] for _, shares in matrix.rows) == pytest.approx(1.0)
    shuffled = list(rows)
    seed.shuffle(shuffled)
    again = _engine(shuffled, spec)
    assert _links(again) == _links(seqs)
    assert summary.top_paths(again, spec.steps, 10**9) == summary.top_paths(seqs, spec.steps, 10**9)
    split = _engine(rows, spec, passes=3)
    assert _links(split) == _links(seqs)
    assert (split.paths, split.units) == (seqs.paths, seqs.units)
    assert summary.transitions(split) == summary.transitions(seqs)


def test_hash_collision_fallback_gives_the_same_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    from cjkit.engine.paths import sequences as seq_module

    rows = [("u1", "a", 0), ("u2", "b", 0), ("u1", "c", 5), ("u2", "a", 9), ("u3", "a", 1)]
    spec = PathSpec(transitions=True)
    normal = _engine(rows, spec)
    monkeypatch.setattr(seq_module, "_collides", lambda grouped: True)
    fallback = _engine(rows, spec)
    assert _links(fallback) == _links(normal)
    assert summary.top_paths(fallback, 5, 100) == summary.top_paths(normal, 5, 100)
    assert (fallback.paths, fallback.units) == (normal.paths, normal.units) == (3, 3)
