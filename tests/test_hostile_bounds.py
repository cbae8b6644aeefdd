"""Bounded work on pathological inputs, and passes that are exact (issue 19 items 4 and 5).

* one row dated 9999-12-31 costs one period, not 400,000 (retention, lifecycle, stickiness),
  with a warning about times far outside the bulk;
* funnels stop at 64 steps, and 64 steps on a tiny log finish in seconds;
* ``**`` globs and folders never enter symlinked folders (``a -> .`` loops);
* FIFOs and devices as input are named for what they are;
* retention in 1, 2, 3 and 20 passes equals one pass, with outliers at both ends of the data.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

import pytest

from cjkit import api
from cjkit.engine import passes as memory
from cjkit.errors import InputError, UsageError
from cjkit.io.files import expand


def _csv(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    lines = ["user_id,event,timestamp", *(",".join(r) for r in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _bulk(units: int = 200) -> list[tuple[str, str, str]]:
    return [(f"u{i}", "visit", f"2025-01-{1 + i % 28:02d}T00:00:00Z") for i in range(units)]


@pytest.fixture
def outlier_log(tmp_path: Path) -> str:
    rows = [
        *_bulk(),
        ("u1", "visit", "9999-12-31T00:00:00Z"),
        ("u2", "visit", "1900-01-01T00:00:00Z"),
    ]
    return str(_csv(tmp_path / "outliers.csv", rows))


def _timed(fn: Any, *args: Any) -> tuple[Any, float]:
    started = time.monotonic()
    result = fn(*args)
    return result, time.monotonic() - started


def test_retention_outlier_costs_one_cohort(outlier_log: str) -> None:
    report, seconds = _timed(api.retention, [outlier_log], api.RetentionOptions())
    assert seconds < 20
    data = report.to_dict()
    assert len(data["cohorts"]) < 20
    assert len(data["periods"]) < 20
    assert any("far outside the bulk" in w for w in report.warnings)
    assert sum(c["size"] if "size" in c else c["counts"][0] for c in data["cohorts"]) >= 200


def test_lifecycle_outlier_costs_one_period(outlier_log: str) -> None:
    report, seconds = _timed(api.lifecycle, [outlier_log], api.ActivityOptions())
    assert seconds < 20
    periods = report.to_dict()["periods"]
    assert len(periods) < 20
    assert sum(p["new"] for p in periods) == 200
    assert any("far outside the bulk" in w for w in report.warnings)


def test_stickiness_outlier_is_bounded(outlier_log: str) -> None:
    report, seconds = _timed(api.stickiness, [outlier_log], api.ActivityOptions())
    assert seconds < 20
    data = report.to_dict()
    assert len(data["counts"]) <= 3
    assert data["units"] == 200
    assert any("far outside the bulk" in w for w in report.warnings)


def test_normal_ranges_keep_every_period(tmp_path: Path) -> None:
    rows = [("a", "visit", "2025-01-01T00:00:00Z"), ("a", "visit", "2025-03-01T00:00:00Z")]
    report = api.lifecycle([str(_csv(tmp_path / "gap.csv", rows))], api.ActivityOptions())
    weeks = report.to_dict()["periods"]
    assert len(weeks) == 9  # the empty weeks between stay in the table
    assert not any("far outside" in w for w in report.warnings)


def test_funnel_step_limit(tmp_path: Path) -> None:
    rows = [(f"u{u}", f"e{i}", f"2025-01-01T00:{i:02d}:00Z") for u in range(2) for i in range(10)]
    log = str(_csv(tmp_path / "steps.csv", rows))
    steps = tuple(f"e{i % 10}" for i in range(65))
    with pytest.raises(UsageError, match="a funnel has at most 64 steps, got 65"):
        api.funnel([log], api.FunnelOptions(steps=steps))
    run, seconds = _timed(api.funnel, [log], api.FunnelOptions(steps=steps[:64]))
    assert seconds < 30
    assert run.report.to_dict()["kind"] == "funnel"


def test_globs_and_folders_do_not_follow_directory_symlinks(tmp_path: Path) -> None:
    root = tmp_path / "loop"
    (root / "sub").mkdir(parents=True)
    _csv(root / "sub" / "e.csv", _bulk(3))
    os.symlink(".", root / "a")
    os.symlink(".", root / "b")
    os.symlink("..", root / "sub" / "up")
    (root / "link.csv").symlink_to(root / "sub" / "e.csv")  # a link to a file is read
    started = time.monotonic()
    for pattern in (f"{root}/**/*.csv", f"{root}/**", str(root)):
        found = expand([pattern])
        assert sorted(p.name for p in found) == ["e.csv", "link.csv"], pattern
    assert time.monotonic() - started < 5


def test_glob_matches_like_the_shell(tmp_path: Path) -> None:
    (tmp_path / "d" / "x").mkdir(parents=True)
    for name in ("d/a.csv", "d/x/b.csv", "d/x/c.parquet.txt"):
        (tmp_path / name).write_text("user_id,event,timestamp\n")
    found = expand([f"{tmp_path}/d/**/*.csv"])
    assert sorted(p.name for p in found) == ["a.csv", "b.csv"]
    found = expand([f"{tmp_path}/d/x/[b]*.csv"])
    assert [p.name for p in found] == ["b.csv"]


@pytest.mark.parametrize(
    ("make", "what"), [("fifo", "a named pipe (FIFO)"), ("null", "a character device")]
)
def test_non_regular_inputs_are_named(tmp_path: Path, make: str, what: str) -> None:
    if make == "fifo":
        target = tmp_path / "pipe"
        os.mkfifo(target)
    else:
        target = Path("/dev/null")
    with pytest.raises(InputError, match=re.escape(f"is {what}")):
        expand([str(target)])


def _passes_log(folder: Path) -> str:
    rows = []
    for i in range(300):
        for week in range(i % 6 + 1):
            day = 1 + (i * 7 + week * 7) % 56
            rows.append((f"u{i}", "visit", _day(day)))
    # Outliers at both ends: early visitors, and four visits 3-6 weeks after everything else.
    rows += [(f"early{i}", "visit", f"2024-10-{1 + i:02d}T08:00:00Z") for i in range(3)]
    rows += [(f"u{i}", "visit", _day(56 + 21 + 7 * i)) for i in range(4)]
    return str(_csv(folder / "passes.csv", rows))


def _day(n: int) -> str:
    from datetime import date, timedelta

    return (date(2025, 1, 1) + timedelta(days=n - 1)).isoformat() + "T12:00:00Z"


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"cohort": "first-time"},
        {"period": "day", "periods": 30},
        {"until": "2025-04-30"},
    ],
    ids=["weekly", "first-time", "daily", "until"],
)
def test_retention_passes_are_exact_near_the_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, options: dict[str, Any]
) -> None:
    log = _passes_log(tmp_path)
    reports = {}
    for passes in (1, 2, 3, 20):
        monkeypatch.setattr(memory, "passes_for", lambda events, n=passes, **_: n)
        reports[passes] = api.retention([log], api.RetentionOptions(**options)).to_dict()
    for passes in (2, 3, 20):
        assert reports[passes]["periods"] == reports[1]["periods"], passes
        assert reports[passes] == reports[1], passes
    assert any(p["lost"] for p in reports[1]["periods"][-8:])
