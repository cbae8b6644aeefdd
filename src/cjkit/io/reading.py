"""How to read the events of one run: flags over a map's ``data:`` block over a preset.

:func:`column_map` resolves every reading setting in that order of precedence (a flag wins,
then a key the map sets, then the preset, then the default). :func:`adapt_model` adds a
preset's standard event names to the stages of a model by kind, so a built-in model runs on a
vendor export unchanged (a PostHog ``$pageview`` counts as a visit).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cjkit.canonical import EVENT, TIME, USER
from cjkit.errors import InputError
from cjkit.io import nested, presets, sources
from cjkit.io.identity import Identity
from cjkit.io.presets import RevenueRule
from cjkit.maps.schema import JourneyMap


@dataclass(frozen=True)
class Flags:
    """The reading flags of a command; None leaves the setting to the map or the preset."""

    user: str | None = None
    event: str | None = None
    time: str | None = None
    tz: str | None = None
    time_format: str | None = None
    preset: str | None = None
    input_format: str | None = None
    table: str | None = None
    query: str | None = None


def _revenue_amounts(model: JourneyMap | None) -> tuple[str, ...]:
    if model is None:
        return ("amount",)
    found = [s.amount or "amount" for s in model.stages if s.kind == "revenue"]
    return tuple(dict.fromkeys(found)) or ("amount",)


def column_map(flags: Flags, model: JourneyMap | None, tz: str) -> sources.ColumnMap:
    """Return the column map of ``flags`` laid over ``model``'s data block and its preset."""
    data = model.data if model is not None else None
    given = data.model_fields_set if data is not None else set()
    name = flags.preset or (data.preset if data is not None else None)
    preset = presets.get(name) if name else None

    def pick(flag: str | None, key: str, from_preset: str | None, default: str) -> str:
        if flag:
            return flag
        if data is not None and key in given:
            return str(getattr(data, key))
        return from_preset or default

    identity = preset.identity if preset else None
    if data is not None and data.identity is not None:
        identity = Identity(data.identity.anonymous, data.identity.user)
    revenue = preset.revenue if preset else None
    if data is not None and data.revenue is not None:
        spec = data.revenue
        revenue = RevenueRule(
            amount=tuple(spec.amount) if spec.amount else _revenue_amounts(model),
            exclude=dict(spec.exclude),
            refunds=tuple(spec.refunds),
        )
    return sources.ColumnMap(
        user=pick(flags.user, "user", preset.user if preset else None, USER),
        event=pick(flags.event, "event", preset.event if preset else None, EVENT),
        time=pick(flags.time, "time", preset.time if preset else None, TIME),
        tz=tz,
        time_format=pick(
            flags.time_format, "time_format", preset.time_format if preset else None, "auto"
        ),
        table=flags.table,
        query=flags.query,
        preset=name,
        input_format=flags.input_format,
        identity=identity,
        event_value=preset.event_value if preset else None,
        event_fallback=preset.event_fallback if preset else None,
        aliases=dict(preset.aliases) if preset else {},
        revenue=revenue,
    )


def adapt_model(model: JourneyMap, preset_name: str | None) -> JourneyMap:
    """Return ``model`` with the preset's standard events added to its stages of each kind."""
    name = preset_name or model.data.preset
    if not name:
        return model
    extra = presets.get(name).stage_events
    stages = []
    for stage in model.stages:
        names = stage.event_names()
        add = [e for e in extra.get(stage.kind, ()) if e not in names]
        stages.append(stage.model_copy(update={"events": [*stage.events, *add]}) if add else stage)
    return model.model_copy(update={"stages": stages})


def profile(events: sources.Events) -> dict[str, Any]:
    """Return what ``inspect`` says about reading: preset (in use, suggested), nested paths
    with types and samples, and identity merging (merged ids, conflicts)."""
    columns = {c: t for c, t in dict.items(events.columns) if c != sources.RAW_TIME}
    identity = None
    if events.merged_ids is not None:
        identity = {"merged_ids": events.merged_ids, "conflicts": events.identity_conflicts or 0}
    return {
        "preset": events.preset,
        "suggested_preset": presets.detect(events.source_columns)
        if events.source_columns
        else None,
        "nested": [
            {"path": p.path, "dtype": p.dtype, "samples": p.samples}
            for p in nested.describe(events.frame, columns)
        ],
        "identity": identity,
    }


def detect_preset(paths: Sequence[str], input_format: str | None = None) -> str | None:
    """Return the preset whose shape the first input file has, or None (reads one header)."""
    from cjkit.io import files

    if not paths or paths[0] == files.STDIN:
        return None
    try:
        first = files.expand(paths[:1], input_format)[0]
        return presets.detect(files.schema(first, files.scan(first, (), input_format)))
    except InputError:
        return None
