"""What every stage section of the HTML report shares: the definition anchors in
docs/metrics.md, and the headline-number (KPI) helper."""

from __future__ import annotations

from typing import Any

from cjkit.render.html.page import Kpi, Section
from cjkit.report.metrics import StageResult

DOC = {
    "acquisition": "3-acquisition",
    "activation": "4-activation",
    "retention": "5-retention",
    "referral": "6-referral",
    "revenue": "7-revenue",
    "satisfaction": "8-satisfaction",
    "step": "2-funnel-numbers-every-stage",
}
DOC_CHECK = "10-cjkit-check"


def kpi(
    section: Section, stage: StageResult, key: str, label: str, text: str, value: Any, sub: str = ""
) -> None:
    """Add one headline number to ``section``, keyed ``stage.key`` for the page's tests."""
    section.kpis.append(Kpi(label, text, value, sub, key=f"{stage.id}.{key}"))
