"""Retention computed in passes over disjoint sets of units equals the one-pass report.

Inputs too big for memory are split by a hash of the unit (``cjkit.memory`` decides how many
passes); the passes' cohort counts, churn and ranges are merged by
``cjkit.engine.retention.combine``. Forced here on the shipped example data, for every cohort
mode, with breakdowns and date ranges.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cjkit import api as api_cohorts
from cjkit.engine import passes as memory

SHOP = str(Path(__file__).resolve().parents[1] / "examples" / "shop" / "events.parquet")

OPTIONS = {
    "weekly": {},
    "first-time monthly": {"cohort": "first-time", "period": "month", "periods": 3},
    "cumulative signups": {"start_event": "signup", "return_event": "purchase", "cumulative": True},
    "by channel": {"by": ("channel",), "periods": 4},
    "range": {"since": "2025-02-01", "until": "2025-03-15", "period": "day", "periods": 10},
}


def _report(passes: int, options: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(memory, "passes_for", lambda events, **_: passes)
    report = api_cohorts.retention([SHOP], api_cohorts.RetentionOptions(**options))
    return report.to_dict()


@pytest.mark.parametrize("name", list(OPTIONS))
@pytest.mark.parametrize("passes", [2, 3])
def test_passes_give_the_one_pass_report(
    name: str, passes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    one = _report(1, OPTIONS[name], monkeypatch)
    split = _report(passes, OPTIONS[name], monkeypatch)
    assert split == one
    assert one["cohorts"], "the example data must give cohorts"
