"""The problems a map that validates can still have: a duplicate stage id, an empty event name,
``within`` on the first stage, a segment that is a role column, exclusions and targets naming no
stage or metric, and a spend file that is missing or lacks its columns. Each at its file:line:col.
"""

from __future__ import annotations

import re
from pathlib import Path

from cjkit.errors import MapProblem, did_you_mean
from cjkit.maps import schema
from cjkit.maps.problems import Loc, Resolved, display_path, dotted, locate


def semantic_problems(
    model: schema.JourneyMap, resolved: Resolved, base_dir: Path
) -> list[MapProblem]:
    problems: list[MapProblem] = []

    def add(loc: Loc, message: str, severity: str = "error") -> None:
        file, line, col = locate(resolved, loc)
        problems.append(MapProblem(file, line, col, dotted(loc), message, severity))

    seen: dict[str, int] = {}
    for i, stage in enumerate(model.stages):
        if stage.id in seen:
            add(
                ("stages", i, "id"),
                f"duplicate stage id '{stage.id}' (first at stages[{seen[stage.id]}])",
            )
        seen.setdefault(stage.id, i)
        for j, entry in enumerate(stage.events):
            if isinstance(entry, str) and not all(p.strip() for p in entry.split("|")):
                add(("stages", i, "events", j), f"empty event name in OR-group {entry!r}")
    if model.stages and model.stages[0].within is not None:
        add(
            ("stages", 0, "within"),
            "'within' is measured from the previous stage; the first stage has none",
        )
    reserved = {model.data.user, model.data.event, model.data.time}
    for i, segment in enumerate(model.segments):
        if segment in reserved:
            add(
                ("segments", i),
                f"'{segment}' is the {_role(model.data, segment)} column, not a property to break down by",
            )
    ids = model.stage_ids()
    for i, exclusion in enumerate(model.settings.exclusions):
        if exclusion.between is None:
            continue
        for k, sid in enumerate(exclusion.between):
            if sid not in ids:
                hint = did_you_mean(sid, ids)
                add(
                    ("settings", "exclusions", i, "between", k),
                    f"no stage '{sid}'" + (f"; {hint}" if hint else ""),
                )
        a, b = exclusion.between
        if a in ids and b in ids and ids.index(a) >= ids.index(b):
            add(
                ("settings", "exclusions", i, "between"),
                f"'{a}' must come before '{b}' in the model",
            )
    for i, target in enumerate(model.targets):
        problem = target_problem(model, target.metric)
        if problem:
            add(("targets", i, "metric"), problem)
    if model.spend is not None:
        problem = spend_problem(model.spend, base_dir)
        if problem:
            add(("spend", "path"), problem)
    return problems


def _role(data: schema.DataSpec, column: str) -> str:
    return {data.user: "unit", data.event: "event", data.time: "time"}[column]


_RETENTION_ALIAS = re.compile(r"^(period|day|week|month|quarter)_(\d+)$")


def target_problem(model: schema.JourneyMap, metric: str) -> str | None:
    """Return why ``stage.metric`` names nothing in this model, or None when it is valid."""
    stage_id, _, name = metric.partition(".")
    stage = model.stage(stage_id)
    if stage is None:
        hint = did_you_mean(stage_id, model.stage_ids())
        msg = f"no stage '{stage_id}' (stages: {', '.join(model.stage_ids())})"
        return f"{msg}; {hint}" if hint else msg
    known = stage.metrics()
    if name in known:
        return None
    alias = _RETENTION_ALIAS.match(name)
    if stage.kind == "retention" and alias and int(alias.group(2)) >= 1:
        return None
    hint = did_you_mean(name, known)
    msg = f"stage '{stage_id}' ({stage.kind}) has no metric '{name}' (metrics: {', '.join(known)})"
    return f"{msg}; {hint}" if hint else msg


def spend_problem(spend: schema.SpendSpec, base_dir: Path) -> str | None:
    """Return why the spend file can't serve CAC (missing, unreadable, columns), or None."""
    import polars as pl

    path = (base_dir / spend.path) if not Path(spend.path).is_absolute() else Path(spend.path)
    if not path.is_file():
        return f"spend file {display_path(path)} not found"
    try:
        if path.suffix.lower() == ".parquet":
            columns = list(pl.read_parquet_schema(path))
        else:
            columns = pl.read_csv(path, n_rows=0, infer_schema=False).columns
    except (pl.exceptions.PolarsError, OSError) as exc:
        return f"spend file {display_path(path)} can't be read: {str(exc).splitlines()[0]}"
    missing = [c for c in (spend.date, spend.channel, spend.amount) if c not in columns]
    if missing:
        return (
            f"spend file {display_path(path)} has no column {', '.join(map(repr, missing))} "
            f"(columns: {', '.join(columns)})"
        )
    return None
