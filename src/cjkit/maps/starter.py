"""The commented starter map that ``cjkit init`` writes."""

from __future__ import annotations

from cjkit.maps import loader


def starter_map(model_ref: str = "aarrr") -> str:
    """Return a commented journey map that extends ``model_ref`` and validates as written."""
    model = loader.load(model_ref).map
    lines = [
        "# yaml-language-server: $schema=cjkit-map.schema.json",
        f"# A cjkit journey map. It extends the built-in '{model.id}' model ({model.name});",
        "# check it with `cjkit validate map.yaml`, run it with",
        "# `cjkit metrics EVENTS --model map.yaml`. Unknown keys are errors.",
        f"extends: {model.id}",
        "name: My customer journey",
        "",
        "# How to read your events: the column names and the time zone of naive times.",
        "data:",
        "  user: user_id",
        "  event: event",
        "  time: timestamp",
        "  timezone: UTC",
        "",
        "# Funnel settings: window (30s, 15m, 2h, 7d, 2w), order (ordered | strict | any),",
        "# and the period of cohorts and trends (day | week | month | quarter).",
        "settings:",
        "  window: 14d",
        "  order: ordered",
        "  period: week",
        "",
        "# Override a stage by id: usually only the events that put a unit in it.",
        "stages:",
    ]
    for stage in model.stages:
        events = ", ".join(stage.event_names())
        lines.append(f"  {stage.id}:  # {stage.name} ({stage.kind})")
        lines.append(f"    events: [{events}]")
        if stage.kind == "activation":
            lines.append(f"    within: {stage.within or '7d'}")
    lines += [
        "",
        "# Properties to break every number down by (personas, channels, countries).",
        "segments: []",
        "",
        "# Thresholds for `cjkit check`: metric is stage_id.metric_name.",
        "targets:",
    ]
    first = model.stages[0].id
    lines.append(f"  - {{metric: {first}.count, min: 1}}")
    for stage in model.stages[1:]:
        lines.append(
            f"  - {{metric: {stage.id}.conversion_from_previous, min: 0.01, severity: warn}}"
        )
        break
    return "\n".join(lines) + "\n"
