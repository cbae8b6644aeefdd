"""Identity merging: an anonymous id later tied to a user counts for that user from its first
event on; conflicts go to the first user; the merged log equals the log with true ids."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from budget import budget
from hypothesis import given, settings
from hypothesis import strategies as st

from cjkit.cli import main
from cjkit.io import sources
from cjkit.io.identity import Identity

RULE = Identity("anonymousId", "userId")


@st.composite
def logs(draw: st.DrawFn) -> tuple[list[dict[str, object]], list[tuple[str, str, int]]]:
    """Return (Segment-style rows, the same events as (true unit, event, time))."""
    rows: list[dict[str, object]] = []
    truth: list[tuple[str, str, int]] = []
    for k in range(draw(st.integers(1, 6))):
        identified = draw(st.booleans())
        times = sorted(draw(st.lists(st.integers(0, 10_000), min_size=1, max_size=6)))
        tie = draw(st.integers(0, len(times) - 1)) if identified else None
        unit = f"u{k}" if identified else f"a{k}"
        for n, t in enumerate(times):
            event = draw(st.sampled_from(["visit", "signup", "purchase"]))
            user = f"u{k}" if tie is not None and n >= tie else None
            # After the tie the anonymous id may or may not ride along (SDKs differ).
            anon = f"a{k}" if user is None or n == tie or draw(st.booleans()) else None
            rows.append({"anonymousId": anon, "userId": user, "event": event, "t": t})
            truth.append((unit, event, t))
    order = draw(st.permutations(range(len(rows))))
    return [rows[i] for i in order], truth


def _write(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _read(path: Path) -> list[tuple[str, str, int]]:
    cmap = sources.ColumnMap(user="userId", time="t", time_format="epoch_s", identity=RULE)
    frame = (
        sources.read([str(path)], cmap)
        .clean()
        .select(sources.USER, sources.EVENT, pl.col(sources.TIME).dt.epoch("s").cast(pl.Int64))
    )
    return sorted(frame.collect().iter_rows())


@given(logs())
def test_merged_log_equals_true_ids(
    tmp_path_factory: pytest.TempPathFactory,
    case: tuple[list[dict[str, object]], list[tuple[str, str, int]]],
) -> None:
    rows, truth = case
    path = _write(tmp_path_factory.mktemp("id") / "log.ndjson", rows)
    assert _read(path) == sorted(truth)


@settings(max_examples=budget(0.3))  # two whole CLI runs per example
@given(logs())
def test_merged_funnel_equals_true_funnel(
    tmp_path_factory: pytest.TempPathFactory,
    case: tuple[list[dict[str, object]], list[tuple[str, str, int]]],
) -> None:
    rows, truth = case
    folder = tmp_path_factory.mktemp("fn")
    merged = _write(folder / "merged.ndjson", rows)
    true = _write(folder / "true.ndjson", [{"user_id": u, "event": e, "t": t} for u, e, t in truth])
    spec = folder / "map.yaml"
    spec.write_text(
        "extends: aarrr\n"
        "data: {user: userId, time: t, time_format: epoch_s,"
        " identity: {anonymous: anonymousId, user: userId}}\n"
        "stages:\n  acquisition: {events: [visit]}\n  activation: {events: [signup]}\n"
    )
    plain = folder / "plain.yaml"
    plain.write_text(
        "extends: aarrr\ndata: {time: t, time_format: epoch_s}\n"
        "stages:\n  acquisition: {events: [visit]}\n  activation: {events: [signup]}\n"
    )
    out_a, out_b = folder / "a.json", folder / "b.json"
    steps = ["-s", "visit", "-s", "signup", "-s", "purchase", "-f", "json"]
    assert main(["funnel", str(merged), "--model", str(spec), *steps, "-o", str(out_a)]) == 0
    assert main(["funnel", str(true), "--model", str(plain), *steps, "-o", str(out_b)]) == 0
    steps_a = json.loads(out_a.read_text())["steps"]
    steps_b = json.loads(out_b.read_text())["steps"]
    assert [s["count"] for s in steps_a] == [s["count"] for s in steps_b]


def test_conflict_goes_to_the_first_user(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        {"anonymousId": "a", "userId": None, "event": "visit", "t": 100},
        {"anonymousId": "a", "userId": "u2", "event": "signup", "t": 300},
        {"anonymousId": "a", "userId": "u1", "event": "signup", "t": 200},
        {"anonymousId": "b", "userId": "u1", "event": "signup", "t": 50},
    ]
    path = _write(tmp_path / "log.ndjson", rows)
    assert _read(path) == [
        ("u1", "signup", 50),
        ("u1", "signup", 200),
        ("u1", "visit", 100),
        ("u2", "signup", 300),
    ]
    code = main(["inspect", str(path), "--preset", "segment", "--time-col", "t", "-f", "json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert json.loads(out.out)["identity"] == {"merged_ids": 2, "conflicts": 1}
    cmap = sources.ColumnMap(user="userId", time="t", identity=RULE)
    warnings = sources.read([str(path)], cmap).warnings
    assert any("1 anonymous id(s) are tied to more than one user" in w for w in warnings)


def test_missing_identity_column_is_one_line(tmp_path: Path) -> None:
    path = _write(tmp_path / "log.ndjson", [{"user_id": "u", "event": "e", "t": 1}])
    cmap = sources.ColumnMap(time="t", identity=Identity("anon", "user_id"))
    with pytest.raises(sources.InputError, match="identity: no column 'anon'"):
        sources.read([str(path)], cmap)


@pytest.mark.parametrize("passes", [2, 3, 7])
def test_merge_is_the_same_in_unit_passes(passes: int) -> None:
    from cjkit.engine.funnel.journeys import FunnelSpec, Step, journeys
    from cjkit.engine.matchers import Matcher

    path = Path(__file__).parent / "data" / "exports" / "segment.ndjson"
    cmap = sources.ColumnMap(user="userId", identity=RULE, event_fallback="type")
    events = sources.read([str(path)], cmap)
    steps = tuple(Step(n, (Matcher(n),)) for n in ("page", "Signed Up", "Order Completed"))
    spec = FunnelSpec(steps=steps)
    one = journeys(events.clean(), spec).collect().sort("unit")
    many = journeys(events.clean(), spec, passes=passes).collect().sort("unit")
    assert one.equals(many)
    assert one["level"].value_counts().sort("level")["count"].to_list() == [10, 10, 20]
