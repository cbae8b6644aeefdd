"""Findings: the report's numbers turned into ranked, plain sentences (docs/metrics.md).

Every finding's ``impact_units`` is in units of the **last** stage: a gain or loss of u units
at stage k counts as ``u · C_n / C_k``, the units that the rest of the funnel (from k to the
last stage, at its current overall rate) turns them into. The drop findings come first: they
say where the journey leaks and have no counterfactual, so no impact. The rest are ranked by
the size of their impact, largest first; findings without one (slowdowns, targets) come after,
in the order segment, change, slowdown, correlation, target.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cjkit.durations import format_duration
from cjkit.report.core import FunnelReport, FunnelStep, segment_text
from cjkit.report.diagnose import KINDS, Finding


def p_text(p: float | None) -> str:
    """Return ``p < 0.001`` or ``p = 0.012``."""
    if p is None:
        return "p n/a"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x * 100:.1f}%"


def _units(x: float) -> str:
    return f"{abs(x):,.0f}"


class Builder:
    """Collects the findings of one report over its funnel steps."""

    def __init__(self, report: FunnelReport, stage_ids: Sequence[str]) -> None:
        self.steps = report.steps
        self.ids = list(stage_ids)
        self.out: list[Finding] = []

    def stage(self, k: int) -> dict[str, Any]:
        """Return ``{id, index, name}`` of step k (1-based)."""
        return {"id": self.ids[k - 1], "index": k, "name": self.steps[k - 1].name}

    def to_last(self, k: int, units: float) -> float:
        """Return ``units`` at step k in units of the last step (C_n / C_k)."""
        at_k = self.steps[k - 1].count
        return units * self.steps[-1].count / at_k if at_k else 0.0

    def drops(self) -> None:
        """Add the step with the largest absolute loss, and the one with the lowest rate."""
        later = self.steps[1:]
        if not later or self.steps[0].count == 0:
            return
        big = max(later, key=lambda s: (s.drop_off, -s.index))
        self._drop(big, "drop_off")
        rated = [s for s in later if s.conversion_from_previous is not None]
        low = min(rated, key=lambda s: (s.conversion_from_previous or 0.0, s.index), default=None)
        if low is not None and low.index != big.index:
            self._drop(low, "conversion_from_previous")

    def _drop(self, s: FunnelStep, metric: str) -> None:
        prev = self.steps[s.index - 2]
        lost = prev.count - s.count
        share = lost / prev.count if prev.count else None
        lead = "The largest drop" if metric == "drop_off" else "The lowest step conversion"
        text = (
            f"{lead} is into {s.name}: {lost:,} of {prev.count:,} units ({_pct(share)}) "
            f"stop after {prev.name}."
        )
        self.out.append(
            Finding(
                kind="drop",
                stage=self.stage(s.index),
                metric=metric,
                value=float(lost) if metric == "drop_off" else s.conversion_from_previous,
                baseline=float(prev.count) if metric == "drop_off" else None,
                p_value=None,
                impact_units=None,
                statement=text,
            )
        )

    def segments(self, report: FunnelReport) -> None:
        """Add every significant ``vs_rest`` cell."""
        by = report.by
        for g in report.groups:
            values = g.value if len(by) > 1 else [g.value]
            column = " × ".join(by)
            value = segment_text(g.value)
            who = " and ".join(f"{c} = {segment_text(v)}" for c, v in zip(by, values, strict=True))
            for s in g.steps[1:]:
                vr = s.extra.get("vs_rest")
                if not vr or not vr["significant"]:
                    continue
                lost = vr["impact_units"]
                verb = "lost" if lost < 0 else "gained"
                text = (
                    f"Units with {who} go on to {s.name} at {_pct(vr['rate'])} against "
                    f"{_pct(vr['rest_rate'])} for the rest ({p_text(vr['p_value'])}): "
                    f"{_units(lost)} units {verb} at {s.name}."
                )
                self.out.append(
                    Finding(
                        kind="segment",
                        stage=self.stage(s.index),
                        segment={"column": column, "value": value},
                        metric="conversion_from_previous",
                        value=vr["rate"],
                        baseline=vr["rest_rate"],
                        p_value=vr["p_value"],
                        impact_units=self.to_last(s.index, lost),
                        statement=text,
                    )
                )

    def changes(self, label: str, now_counts: Sequence[int]) -> None:
        """Add the significant changes of rates and medians since the compared period; the
        units gained or lost are the current period's (``now_counts`` per step)."""
        for s in self.steps[1:]:
            change = s.extra.get("change") or {}
            for metric in ("conversion_from_previous", "conversion_from_start"):
                c = change.get(metric)
                if not c or not c["significant"]:
                    continue
                base = now_counts[s.index - 2 if metric == "conversion_from_previous" else 0]
                units = base * c["diff"]
                what = "Step conversion" if metric == "conversion_from_previous" else "Conversion"
                where = (
                    f"into {s.name}"
                    if metric == "conversion_from_previous"
                    else (f"from the start to {s.name}")
                )
                verb = "rose" if c["diff"] > 0 else "fell"
                text = (
                    f"{what} {where} {verb} from {_pct(c['then'])} to {_pct(c['now'])} "
                    f"({c['diff'] * 100:+.1f} pts, {p_text(c['p_value'])}) against {label}: "
                    f"{_units(units)} units {'gained' if units > 0 else 'lost'} at {s.name}."
                )
                self.out.append(
                    Finding(
                        kind="change",
                        stage=self.stage(s.index),
                        metric=metric,
                        value=c["now"],
                        baseline=c["then"],
                        p_value=c["p_value"],
                        impact_units=self.to_last(s.index, units),
                        statement=text,
                    )
                )
            t = change.get("median_time_to_convert_s")
            if t and t["significant"]:
                slower = t["diff"] > 0
                verb = "grew" if slower else "shrank"
                text = (
                    f"The median time from {self.steps[s.index - 2].name} to {s.name} {verb} "
                    f"from {format_duration(t['then'])} to {format_duration(t['now'])} "
                    f"({p_text(t['p_value'])}, Mood's median test) against {label}."
                )
                self.out.append(
                    Finding(
                        kind="slowdown" if slower else "change",
                        stage=self.stage(s.index),
                        metric="median_time_to_convert_s",
                        value=t["now"],
                        baseline=t["then"],
                        p_value=t["p_value"],
                        impact_units=None,
                        statement=text,
                    )
                )

    def correlations(self, block: dict[str, Any], step: int, limit: int = 3) -> None:
        """Add the significant correlated events or values at ``step`` (at most ``limit`` of
        each type), with impact: the holders' units at the non-holders' rate."""
        kept = {"success": 0, "failure": 0}
        s_total, f_total = block["success_total"], block["failure_total"]
        name = self.steps[step - 1].name
        for r in block["results"]:
            kind = r["correlation_type"]
            if not r.get("significant") or kept[kind] >= limit:
                continue
            kept[kind] += 1
            s, f = r["success_count"], r["failure_count"]
            holders, others = s + f, (s_total - s) + (f_total - f)
            rate = s / holders if holders else 0.0
            rest = (s_total - s) / others if others else 0.0
            units = holders * (rate - rest)
            more = "more" if kind == "success" else "less"
            text = (
                f"Units who have {r['name']} reach {name} {more} often: {rate * 100:.1f}% "
                f"against {rest * 100:.1f}% without it (odds ratio {r['odds_ratio']:.2f}, "
                f"{s:,} of {s_total:,} successes and {f:,} of {f_total:,} failures, "
                f"{p_text(r['p_value'])})."
            )
            self.out.append(
                Finding(
                    kind="correlation",
                    stage=self.stage(step),
                    event=r["name"],
                    metric="odds_ratio",
                    value=r["odds_ratio"],
                    baseline=1.0,
                    p_value=r["p_value"],
                    impact_units=self.to_last(step, units),
                    statement=text,
                )
            )

    def targets(self, checks: Sequence[dict[str, Any]], ids: Sequence[str]) -> None:
        """Add the map targets that fail, or pass within 10% of their bound."""
        for c in checks:
            stage_id = str(c["metric"]).partition(".")[0]
            k = list(ids).index(stage_id) + 1 if stage_id in ids else None
            actual = c.get("actual")
            near = None
            if c["status"] == "pass" and actual is not None:
                if c.get("min") is not None and actual < c["min"] + 0.1 * abs(c["min"]):
                    near = ("minimum", c["min"])
                elif c.get("max") is not None and actual > c["max"] - 0.1 * abs(c["max"]):
                    near = ("maximum", c["max"])
            if c["status"] != "fail" and near is None:
                continue
            if near is not None:
                text = (
                    f"Target {c['metric']} = {actual:.4g} passes, but within 10% of its "
                    f"{near[0]} {near[1]:.4g}."
                )
            else:
                text = f"Target {c['metric']} fails ({c['severity']}): {c['message']}."
            bound = c.get("min") if c.get("min") is not None else c.get("max")
            self.out.append(
                Finding(
                    kind="target",
                    stage=self.stage(k) if k is not None and k <= len(self.steps) else None,
                    metric=str(c["metric"]),
                    value=actual,
                    baseline=bound,
                    p_value=None,
                    impact_units=None,
                    statement=text,
                )
            )

    def ranked(self) -> list[Finding]:
        """Return the findings by |impact_units|, largest first; those without one last."""
        order = {k: i for i, k in enumerate(KINDS)}
        return sorted(
            self.out,
            key=lambda f: (
                f.kind != "drop",
                f.impact_units is None,
                -abs(f.impact_units or 0.0),
                order[f.kind],
                f.stage["index"] if f.stage else 0,
            ),
        )
