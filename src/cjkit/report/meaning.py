"""What a stage's two counts mean, when the funnel count and the stage's own metric differ.

The funnel count of a stage counts units that reached it *in the funnel*: after the previous
stages, in the map's order, within the conversion window. A stage's own metric asks something
else: an activation rate counts acquired units that did the event within the activation window
of their own acquisition; revenue counts every paying unit of the population; retention counts
unit-periods of the cohorts. "Revenue 129 units" beside "paying units 6,924" is not a
contradiction, but it reads like one unless the report says so where the numbers are shown.

:func:`stage_meaning` returns one short line for the table and Markdown and, for ``--explain``,
a few sentences with both numbers. The wording lives here only; the renderers print it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cjkit.durations import format_duration

if TYPE_CHECKING:
    from cjkit.report.metrics import MetricsReport, StageResult


@dataclass(frozen=True)
class Meaning:
    """One stage's two counts: a short line, and the sentences ``--explain`` prints."""

    line: str
    explanation: list[str]


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _funnel_sentence(report: MetricsReport, st: StageResult) -> str:
    s = report.settings
    previous = report.stages[st.index - 2].name if st.index > 1 else None
    window = format_duration(s.get("window_seconds"))
    events = " or ".join(st.events) or st.name
    if previous is None:
        return (
            f"The funnel count ({st.numbers.count:,}) counts the units with a {events} event "
            "in the range: the population every later stage is a share of."
        )
    return (
        f"The funnel count ({st.numbers.count:,}) counts units that did {events} after "
        f"reaching {previous} (order: {s.get('order', 'ordered')}), within {window} of "
        "entering the funnel."
    )


def stage_meaning(report: MetricsReport, st: StageResult) -> Meaning | None:
    """Return what ``st``'s funnel count and its own metric count, or None when they agree
    (or the stage's kind has no count of its own)."""
    n, d, m = st.numbers, st.numbers.detail, st.numbers.metrics
    count = n.count
    window = format_duration(report.settings.get("window_seconds"))
    events = " or ".join(st.events) or st.name
    why = (
        "They differ because the funnel needs the previous stages first, in order and within "
        "its window, while the stage metric asks only whether (and when) a unit did it."
    )
    if st.kind == "activation" and _int(d.get("activated")) is not None and "acquired" in d:
        done, of = int(d["activated"]), int(d["acquired"])
        within = format_duration(d.get("within_s"))
        if done == count:
            return None
        return Meaning(
            f"Funnel {count:,}: reached in the funnel within {window}; activation "
            f"{done:,} of {of:,}: did it within {within} of acquisition.",
            [
                _funnel_sentence(report, st),
                f"The activation rate counts the {done:,} of {of:,} acquired units that did "
                f"{events} within {within} of their own acquisition, whatever else they did "
                "first.",
                why,
            ],
        )
    if st.kind == "revenue" and _int(m.get("paying_units")) is not None:
        paying = int(m["paying_units"])
        if paying == count:
            return None
        return Meaning(
            f"Funnel {count:,}: reached in the funnel within {window}; paying units "
            f"{paying:,}: paid at all in the range.",
            [
                _funnel_sentence(report, st),
                f"Paying units ({paying:,}) counts every unit of the population with a purchase "
                "in the range; revenue, ARPU and LTV are over those purchases, not over the "
                "funnel's units.",
                why,
            ],
        )
    if st.kind == "referral" and _int(d.get("referrers")) is not None:
        referrers = int(d["referrers"])
        if referrers == count:
            return None
        return Meaning(
            f"Funnel {count:,}: reached in the funnel within {window}; units that invite "
            f"{referrers:,}: invited at all.",
            [
                _funnel_sentence(report, st),
                f"Units that invite counts the {referrers:,} units of the population with an "
                "invite in the range; the k-factor and invite conversion are over their invites.",
                why,
            ],
        )
    if st.kind == "retention" and _int(d.get("active_at_start")) is not None:
        periods = int(d["active_at_start"])
        period = str(d.get("period", "period"))
        return Meaning(
            f"Funnel {count:,}: reached in the funnel within {window}; retention counts "
            f"{periods:,} unit-periods (a unit once per active {period}).",
            [
                _funnel_sentence(report, st),
                f"Churn and the table above count unit-periods: a unit enters a cohort in every "
                f"{period} it is active, so the {periods:,} unit-periods at the start of a "
                f"period exceed the stage's units.",
                "They differ because one counts units once, in the funnel, and the other counts "
                f"each unit once per {period} it was active.",
            ],
        )
    if st.kind == "satisfaction" and _int(m.get("responses")) is not None:
        responses = int(m["responses"])
        if responses == count:
            return None
        return Meaning(
            f"Funnel {count:,}: reached in the funnel within {window}; NPS {responses:,}: "
            "responses from any unit.",
            [
                _funnel_sentence(report, st),
                f"NPS and the mean score are over the {responses:,} responses in the range, "
                "from any unit of the population, in or out of the funnel.",
                why,
            ],
        )
    if st.kind == "acquisition" and _int(m.get("new_units")) is not None:
        new = int(m["new_units"])
        if new == count:
            return None
        return Meaning(
            f"Count {count:,}: units with a first-stage event in the range; new units {new:,}: "
            "their first ever.",
            [
                _funnel_sentence(report, st),
                f"New units ({new:,}) counts only the units whose first {events} ever is in the "
                "range; the others came back from before it.",
                "They differ when the range starts after the data does.",
            ],
        )
    return None
