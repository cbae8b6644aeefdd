"""How ``cjkit metrics`` and ``cjkit check`` write a metric's value: by its unit in the stage-kind
registry (rates in %, seconds as durations, money with two decimals), its label, its interval."""

from __future__ import annotations

from typing import Any

from cjkit import kinds as kind_registry
from cjkit.durations import format_duration
from cjkit.render.table import num, pct


def unit_of(name: str) -> str:
    """Return a metric's unit from the stage-kind registry (seconds for any ``*_s``)."""
    declared = kind_registry.metric(name)
    if declared is not None:
        return declared.unit
    return "seconds" if name.endswith("_s") else "number"


class _Labels(dict[str, str]):
    """The display label of each metric a kind declares (read live from the registry)."""

    def __missing__(self, name: str) -> str:
        for spec in kind_registry.REGISTRY.values():
            for m in spec.metrics:
                if m.name == name:
                    return m.label
        raise KeyError(name)

    def get(self, name: str, default: Any = None) -> Any:
        """Return the label, or ``default`` for a metric no kind declares."""
        try:
            return self[name]
        except KeyError:
            return default


LABELS = _Labels()


def fmt_value(name: str, value: Any) -> str:
    """Return a metric value as display text by its unit in the registry: rates in %, seconds
    as durations, counts with thousands separators, money with two decimals, points signed
    (``–`` for null)."""
    if value is None:
        return "–"
    if isinstance(value, dict):
        return " · ".join(f"{k} {fmt_value(name, v)}" for k, v in value.items()) or "–"
    unit = unit_of(name)
    if unit == "rate":
        return pct(value)
    if unit == "seconds":
        return format_duration(value)
    if unit == "count":
        return f"{int(value):,}"
    if unit == "points":
        return f"{value:+.1f}"
    if unit == "money":
        return f"{value:,.2f}"
    return num(value)


def ci_text(ci: dict[str, float] | None, name: str | None = None) -> str:
    """Return a 95% interval as text: in % for rates, in the metric's own numbers otherwise."""
    if not ci:
        return ""
    if name is not None and unit_of(name) != "rate":
        return f"  (95% CI {num(ci['low'])}–{num(ci['high'])})"
    return f"  (95% CI {ci['low'] * 100:.1f}–{ci['high'] * 100:.1f}%)"


def md_escape(text: str) -> str:
    """Return ``text`` safe inside a Markdown table cell."""
    return text.replace("|", "\\|")
