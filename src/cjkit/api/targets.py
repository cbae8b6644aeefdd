"""Evaluating a map's targets on a metrics report, and against a baseline run's JSON.

:func:`lookup` finds ``stage.metric`` in a metrics JSON's stages (retention aliases such as
``week_4`` included); :func:`evaluate` turns every target into a :class:`CheckResult` with its
map line. Nothing here reads events or prints.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from cjkit import kinds as kind_registry
from cjkit.errors import InputError, did_you_mean
from cjkit.maps import loader
from cjkit.report.metrics import CheckResult, MetricsReport

ALIAS = re.compile(r"^(period|day|week|month|quarter)_(\d+)$")
# Funnel numbers sit at the top of a stage's JSON; every other metric under ``metrics``.
_TOP_LEVEL = tuple(m.name for m in kind_registry.FUNNEL if m.name != "median_time_to_convert_s")


def _stage_dicts(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    stages = doc.get("stages")
    if not isinstance(stages, list):
        return {}
    return {s["id"]: s for s in stages if isinstance(s, dict) and "id" in s}


def lookup(stages: dict[str, dict[str, Any]], metric: str) -> tuple[float | None, str | None]:
    """Return (the value of ``stage.metric`` in a metrics JSON's stages, why there is none).

    Retention aliases (``week_4``) resolve to ``period_4`` when the stage's period matches.
    A money metric reported per currency is one number only when there is one currency.
    """
    stage_id, _, name = metric.partition(".")
    stage = stages.get(stage_id)
    if stage is None:
        return None, f"no stage '{stage_id}' in the report"
    alias = ALIAS.match(name)
    if stage.get("kind") == "retention" and alias and alias.group(1) != "period":
        period = (stage.get("detail") or {}).get("period")
        if alias.group(1) != period:
            return None, (
                f"{metric}: the stage's period is {period}, so {name} is undefined "
                f"(say period_{alias.group(2)} or {period}_{alias.group(2)})"
            )
        name = f"period_{alias.group(2)}"
    if name in _TOP_LEVEL:
        value = stage.get(name)
    elif name in (stage.get("metrics") or {}):
        value = stage["metrics"][name]
    else:
        spec = kind_registry.REGISTRY.get(str(stage.get("kind")))
        known = [*_TOP_LEVEL, *(stage.get("metrics") or {}), *(spec.metric_names() if spec else ())]
        hint = did_you_mean(name, list(dict.fromkeys(known)))
        return None, f"stage '{stage_id}' reports no metric '{name}'" + (
            f"; {hint}" if hint else ""
        )
    if isinstance(value, dict):
        if len(value) == 1:
            value = next(iter(value.values()))
        elif not value:
            return None, f"{metric} has no value: the stage has no amounts in the range"
        else:
            return None, (
                f"{metric} is reported per currency ({', '.join(value)}), and a target needs "
                "one number: filter the stage to one currency, e.g. "
                "events: [{name: purchase, where: {currency: USD}}]"
            )
    if value is None:
        return None, None
    number = float(value)
    return (None, None) if math.isnan(number) else (number, None)


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def _evaluate_one(
    target: Any,
    line: int,
    stages: dict[str, dict[str, Any]],
    baseline: dict[str, dict[str, Any]] | None,
) -> CheckResult:
    actual, problem = lookup(stages, target.metric)
    base_value: float | None = None
    fails: list[str] = []
    notes: list[str] = []
    regression = target.max_drop is not None or target.max_drop_pct is not None
    if problem:
        fails.append(problem)
    elif actual is None:
        fails.append(
            f"{target.metric} has no value: its denominator is 0 (nothing to measure in the range)"
        )
    else:
        if target.min is not None and actual < target.min:
            fails.append(
                f"{target.metric} = {_fmt(actual)} is below the minimum {_fmt(target.min)}"
            )
        if target.max is not None and actual > target.max:
            fails.append(
                f"{target.metric} = {_fmt(actual)} is above the maximum {_fmt(target.max)}"
            )
        if regression:
            if baseline is None:
                notes.append("regression bound not checked: no --baseline given")
            else:
                base_value, why = lookup(baseline, target.metric)
                if base_value is None:
                    notes.append(
                        f"regression bound not checked: the baseline has no value ({why or 'null'})"
                    )
                else:
                    fails.extend(_drops(target, actual, base_value))
    if fails:
        status, message = "fail", "; ".join(fails)
    elif regression and notes and target.min is None and target.max is None:
        status, message = "skip", "; ".join(notes)
    else:
        status = "pass"
        message = "; ".join([f"{target.metric} = {_fmt(actual or 0.0)}", *notes])
    return CheckResult(
        metric=target.metric,
        severity=target.severity,
        line=line,
        actual=actual,
        status=status,
        message=message,
        min=target.min,
        max=target.max,
        max_drop=target.max_drop,
        max_drop_pct=target.max_drop_pct,
        baseline=base_value,
    )


def _drops(target: Any, actual: float, base: float) -> list[str]:
    fails = []
    drop = base - actual
    # A tolerance of a few ulps: 0.30 − 0.28 must not fail a max_drop of 0.02.
    eps = 1e-9 * max(1.0, abs(base))
    if target.max_drop is not None and drop > target.max_drop + eps:
        fails.append(
            f"{target.metric} fell by {_fmt(drop)} from {_fmt(base)} (baseline) to "
            f"{_fmt(actual)}, more than {_fmt(target.max_drop)}"
        )
    if target.max_drop_pct is not None:
        if base <= 0:
            if drop > eps:
                fails.append(
                    f"{target.metric} fell from {_fmt(base)} (baseline) to {_fmt(actual)}; "
                    "a drop in percent is undefined for a baseline ≤ 0"
                )
        else:
            pct = drop / base * 100
            if pct > target.max_drop_pct + 1e-9:
                fails.append(
                    f"{target.metric} fell by {pct:.1f}% from {_fmt(base)} (baseline) to "
                    f"{_fmt(actual)}, more than {_fmt(target.max_drop_pct)}%"
                )
    return fails


def evaluate(
    report: MetricsReport, loaded: loader.LoadedMap, baseline: dict[str, Any] | None
) -> list[CheckResult]:
    """Return every target of the map evaluated on ``report`` (and a baseline metrics JSON)."""
    current = {s.id: s.to_dict() for s in report.stages}
    base = _stage_dicts(baseline) if baseline is not None else None
    lines = loaded.target_lines
    return [
        _evaluate_one(t, lines[i] if i < len(lines) else 1, current, base)
        for i, t in enumerate(loaded.map.targets)
    ]


def read_baseline(path: str) -> dict[str, Any]:
    """Return a metrics JSON from an earlier run; raise InputError when it isn't one."""
    file = Path(path)
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"baseline {path}: no such file", option="baseline") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"baseline {path}: can't read it ({exc})", option="baseline") from None
    except json.JSONDecodeError as exc:
        raise InputError(
            f"baseline {path}: not JSON (line {exc.lineno}: {exc.msg}); "
            "expected the output of cjkit metrics --format json",
            option="baseline",
        ) from None
    if not isinstance(doc, dict) or doc.get("kind") != "metrics":
        kind = doc.get("kind") if isinstance(doc, dict) else type(doc).__name__
        raise InputError(
            f"baseline {path}: expected the JSON of 'cjkit metrics --format json', "
            f"got kind {kind!r}",
            option="baseline",
        )
    return doc
