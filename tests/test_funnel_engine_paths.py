"""The funnel engine's fast paths give the same journeys as its general ones.

``cjkit.engine.journeys`` groups units by a 64-bit hash and packs time and tie-break into one
integer key; it falls back to sorting by the unit itself when two units share a hash, and to a
multi-column sort when the key does not fit. Big inputs are split into passes over disjoint sets
of units. Each path is forced here on random logs (the differential test's generators) and must
give exactly the journeys of the default path, which the differential test holds to the
reference state machine.
"""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest
from budget import budget
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_funnel_differential import MODES, _frame, _mode_id, logs, specs

from cjkit.engine import passes as memory
from cjkit.engine.funnel import journeys as engine
from cjkit.engine.funnel.journeys import FunnelSpec, Step, journeys
from cjkit.engine.matchers import parse_cli_step

EXAMPLES = budget(0.3)
# Property tests against the reference: the bulk of the suite's time under the ci profile.
pytestmark = pytest.mark.slow


def _table(rows: list[dict[str, Any]], spec: FunnelSpec, passes: int = 1) -> pl.DataFrame:
    return journeys(_frame(rows), spec, passes=passes).collect().sort("unit")


def _one_hash(original: Any) -> Any:
    """Return a ``_scan`` that gives every unit the same hash: every unit collides."""

    def scan(events: pl.LazyFrame, spec: FunnelSpec) -> Any:
        frame, m_cols, x_cols = original(events, spec)
        return frame.with_columns(pl.lit(7, pl.UInt64).alias(engine._HASH)), m_cols, x_cols

    return scan


@pytest.mark.parametrize("exclusions", [False, True], ids=["plain", "exclusions"])
@pytest.mark.parametrize("mode", MODES, ids=_mode_id)
def test_fallback_paths_agree_with_the_fast_path(
    mode: tuple[str, str, bool, bool], exclusions: bool
) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(rows=logs(), spec=specs(mode, exclusions=exclusions), passes=st.integers(2, 4))
    def run(rows: list[dict[str, Any]], spec: FunnelSpec, passes: int) -> None:
        want = _table(rows, spec)
        assert _table(rows, spec, passes=passes).equals(want)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(engine, "_scan", _one_hash(engine._scan))
            assert _table(rows, spec).equals(want)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(engine, "_KEY_BITS", 0)
            assert _table(rows, spec).equals(want)

    run()


def test_a_shared_hash_is_detected_and_units_stay_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two users whose events interleave in time, with one hash: still two journeys."""
    rows = [
        {"user_id": "u1", "event": "a", "timestamp": 1, "k": None, "g": None},
        {"user_id": "u2", "event": "a", "timestamp": 2, "k": None, "g": None},
        {"user_id": "u1", "event": "b", "timestamp": 3, "k": None, "g": None},
        {"user_id": "u2", "event": "c", "timestamp": 4, "k": None, "g": None},
    ]
    frame = pl.DataFrame(rows).with_columns(pl.from_epoch("timestamp").dt.replace_time_zone("UTC"))
    spec = FunnelSpec(steps=tuple(Step(e, tuple(parse_cli_step(e))) for e in ("a", "b")))
    monkeypatch.setattr(engine, "_scan", _one_hash(engine._scan))
    table = journeys(frame.lazy(), spec).collect().sort("unit")
    assert table["unit"].to_list() == ["u1", "u2"]
    assert table["level"].to_list() == [2, 1]


def test_passes_follow_the_memory_budget() -> None:
    gib = 1024**3
    assert memory.passes_for(100_000_000, available=22 * gib) == 1
    assert memory.passes_for(1_000_000_000, available=22 * gib) == 5
    # A small machine still reads at least ten million events per pass.
    assert memory.passes_for(25_000_000, available=0) == 3
    # Retention holds less per event: 1B events fit in two passes.
    budget = memory.RETENTION_BYTES_PER_EVENT
    assert memory.passes_for(1_000_000_000, available=22 * gib, bytes_per_event=budget) == 2
    assert memory.available_bytes() > 0


def test_memory_limit_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert memory.parse_size("8G") == 8 * 1024**3
    assert memory.parse_size("512m") == 512 * 1024**2
    assert memory.parse_size("1.5GiB") == int(1.5 * 1024**3)
    monkeypatch.setenv("CJKIT_MEMORY_LIMIT", "2G")
    assert memory.available_bytes() == 2 * 1024**3
    # 2 GiB at 100 bytes an event: 21M events a pass, so 100M events take 5 passes.
    assert memory.passes_for(100_000_000) == 5


def test_a_bad_memory_limit_is_a_one_line_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from typer.testing import CliRunner

    from cjkit.cli import app

    path = tmp_path / "e.csv"
    path.write_text("user_id,event,timestamp\n1,a,2025-01-01T00:00:00Z\n", encoding="utf-8")
    monkeypatch.setenv("CJKIT_MEMORY_LIMIT", "lots")
    result = CliRunner().invoke(app, ["funnel", str(path), "-s", "a", "-s", "b"])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "Error: CJKIT_MEMORY_LIMIT: expected a size such as 8G, 512M or 16GiB, got 'lots'"
    )
