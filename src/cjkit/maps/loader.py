"""Read models and journey maps: YAML with line marks → ``JourneyMap``, or every problem at once.

A map may ``extends:`` a built-in model or another map (a path relative to it). Stages given as a
mapping override the base's stages by id. Each problem is reported as
``FILE:LINE:COL: key.path: message``, pointing into whichever file the offending key came from.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from cjkit.errors import ConfigError, MapInvalid, MapProblem, did_you_mean
from cjkit.maps import schema
from cjkit.maps.yaml_marks import Marked, YamlSyntaxError, load_marked

Loc = tuple[str | int, ...]
Translate = Callable[[Loc], Loc | None]

_REPO_MODELS = Path(__file__).resolve().parents[3] / "models"
_WHEEL_MODELS = Path(__file__).resolve().parents[1] / "models"


def models_dir() -> Path:
    """Return the folder of built-in models: inside the wheel, or the checkout's ``models/``."""
    return _WHEEL_MODELS if _WHEEL_MODELS.is_dir() else _REPO_MODELS


def builtin_names() -> list[str]:
    """Return the ids of the built-in models, sorted."""
    return sorted(p.stem for p in models_dir().glob("*.yaml"))


def builtin_path(name: str) -> Path:
    """Return the file of a built-in model; raise ConfigError with a hint for an unknown name."""
    path = models_dir() / f"{name}.yaml"
    if not path.is_file():
        names = builtin_names()
        raise ConfigError(
            f"unknown model '{name}' (built-in models: {', '.join(names)})",
            hint=did_you_mean(name, names) or "or pass the path of a map file",
        )
    return path


@dataclass
class Source:
    """One file that contributed to a resolved map, and how to find a merged key in it."""

    display: str
    marked: Marked
    translate: Translate


@dataclass
class Resolved:
    """A merged raw map (plain dicts) and the files it came from, nearest first."""

    raw: dict[str, Any]
    sources: list[Source] = field(default_factory=list)
    problems: list[MapProblem] = field(default_factory=list)
    fatal: bool = False


@dataclass(frozen=True)
class LoadedMap:
    """A validated journey map, the file it was read from, and the line of each target."""

    map: schema.JourneyMap
    path: Path | None
    display: str
    target_lines: tuple[int, ...]
    # The files the map came from (itself, then what it extends), to place a key path.
    resolved: Resolved | None = field(default=None, repr=False, compare=False)

    def locate(self, loc: Loc) -> tuple[str, int, int]:
        """Return (file, line, col) of the key path ``loc`` (such as ``("stages", 2, "events",
        0)``) in whichever file of the map holds it; (this file, 1, 1) when it is nowhere."""
        if self.resolved is None:
            return (self.display, 1, 1)
        return _locate(self.resolved, loc)

    @property
    def base_dir(self) -> Path:
        """Return the folder that relative paths in the map (spend file) are read from."""
        return self.path.parent if self.path else Path.cwd()


def display_path(path: Path) -> str:
    """Return ``path`` relative to the working folder when it lies below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load(ref: str | Path) -> LoadedMap:
    """Return the validated map for a built-in name or a file; raise MapInvalid or ConfigError."""
    loaded, problems = check(ref)
    if problems or loaded is None:
        raise MapInvalid(problems)
    return loaded


def check(ref: str | Path) -> tuple[LoadedMap | None, list[MapProblem]]:
    """Return (the map or None, every problem found) for a built-in name or a map file.

    Raise ConfigError (exit 2) only when the file itself can't be found or read.
    """
    path = _resolve_ref(ref)
    resolved = _resolve(path, chain=())
    problems = list(resolved.problems)
    if resolved.fatal or not resolved.raw:
        return None, _sorted(problems)
    raw = resolved.raw
    raw.setdefault("id", _id_from_stem(path.stem))
    try:
        model = schema.JourneyMap.model_validate(raw)
    except ValidationError as exc:
        problems.extend(_pydantic_problems(exc, resolved))
        return None, _sorted(problems)
    problems.extend(_semantic_problems(model, resolved, path.parent))
    if problems:
        return None, _sorted(problems)
    lines = tuple(_locate(resolved, ("targets", i))[1] for i in range(len(model.targets)))
    return LoadedMap(model, path, display_path(path), lines, resolved), []


def _resolve_ref(ref: str | Path) -> Path:
    text = str(ref)
    candidate = Path(text)
    if candidate.suffix in (".yaml", ".yml") or candidate.exists() or "/" in text:
        if candidate.is_dir():
            raise ConfigError(f"{text}: is a folder, expected a map file (.yaml)")
        if not candidate.is_file():
            raise ConfigError(
                f"{text}: no such file",
                hint=did_you_mean(candidate.stem, builtin_names())
                and f"for a built-in model, pass its name: {', '.join(builtin_names())}",
            )
        return candidate
    return builtin_path(text)


def _id_from_stem(stem: str) -> str:
    cleaned = re.sub(r"[^a-z0-9_-]+", "-", stem.lower()).strip("-_")
    return cleaned or "map"


def _read(path: Path, display: str) -> tuple[Marked | None, list[MapProblem]]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{display}: can't read the file ({exc.strerror})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        msg = f"the file is not UTF-8 (byte 0x{data[exc.start]:02x}); save it as UTF-8"
        return None, [MapProblem(display, line, col, "", msg)]
    try:
        marked = load_marked(text)
    except YamlSyntaxError as exc:
        return None, [MapProblem(display, exc.line, exc.col, "", str(exc))]
    problems = [
        MapProblem(display, line, col, _dotted(p), f"duplicate key '{p[-1]}'")
        for p, line, col in marked.duplicates
    ]
    if marked.data is None:
        msg = "the file is empty; expected a mapping with id, name and stages (or extends)"
        return None, [MapProblem(display, 1, 1, "", msg)]
    if not isinstance(marked.data, dict):
        kind = type(marked.data).__name__
        msg = f"expected a mapping at the top level, got a {_yaml_type(kind)}"
        return None, [MapProblem(display, 1, 1, "", msg)]
    return marked, problems


def _yaml_type(name: str) -> str:
    return {"list": "list", "str": "string", "int": "number", "float": "number"}.get(name, name)


MAX_EXTENDS = 32  # maps in one extends chain: real ones have two or three


def _resolve(path: Path, chain: tuple[Path, ...]) -> Resolved:
    display = display_path(path)
    marked, problems = _read(path, display)
    if marked is None:
        return Resolved(raw={}, problems=problems)
    raw: dict[str, Any] = dict(marked.data)
    own = Source(display, marked, lambda loc: loc)
    extends = raw.pop("extends", None)
    if extends is None:
        return Resolved(raw=raw, sources=[own], problems=problems)
    line, col = marked.locate(("extends",))
    base_path = _extends_path(extends, path)
    if isinstance(base_path, str):
        problems.append(MapProblem(display, line, col, "extends", base_path))
        return Resolved(raw=raw, sources=[own], problems=problems, fatal=True)
    key = base_path.resolve()
    if len(chain) >= MAX_EXTENDS:
        msg = f"extends chain longer than {MAX_EXTENDS} maps"
        problems.append(MapProblem(display, line, col, "extends", msg))
        return Resolved(raw=raw, sources=[own], problems=problems, fatal=True)
    if key in chain or key == path.resolve():
        cycle = " → ".join(display_path(p) for p in (*chain, path.resolve(), key))
        problems.append(MapProblem(display, line, col, "extends", f"extends cycle: {cycle}"))
        return Resolved(raw=raw, sources=[own], problems=problems, fatal=True)
    base = _resolve(base_path, (*chain, path.resolve()))
    problems.extend(base.problems)
    if not base.raw or base.fatal:
        return Resolved(raw=raw, sources=[own], problems=problems, fatal=True)
    merged, stage_problems, child_translate, base_keeps_stages = _merge(base.raw, raw, own)
    if "id" not in raw:
        merged["id"] = _id_from_stem(path.stem)  # a map is its own model, not the base
    problems.extend(stage_problems)
    own.translate = child_translate
    sources = [own]
    for src in base.sources:
        sources.append(
            Source(src.display, src.marked, _base_translate(src, raw, base_keeps_stages))
        )
    return Resolved(raw=merged, sources=sources, problems=problems)


def _extends_path(extends: object, child: Path) -> Path | str:
    if not isinstance(extends, str) or not extends:
        return "expected a built-in model name or a relative path to a map"
    names = builtin_names()
    if extends in names:
        return models_dir() / f"{extends}.yaml"
    candidate = child.parent / extends
    if candidate.is_file():
        return candidate
    hint = did_you_mean(extends, names)
    msg = f"unknown model '{extends}' (built-in: {', '.join(names)}; or a path to a map)"
    return f"{msg}; {hint}" if hint else msg


def _base_translate(src: Source, child_raw: dict[str, Any], base_keeps_stages: bool) -> Translate:
    def translate(loc: Loc) -> Loc | None:
        if loc and loc[0] == "stages" and not base_keeps_stages:
            return None
        if loc and loc[0] in child_raw and loc[0] not in ("stages", "data", "settings"):
            return None
        return src.translate(loc)

    return translate


def _merge(
    base: dict[str, Any], child: dict[str, Any], own: Source
) -> tuple[dict[str, Any], list[MapProblem], Translate, bool]:
    """Return the child laid over the base, stage problems, and how to find keys in the child."""
    merged = dict(base)
    problems: list[MapProblem] = []
    for key, value in child.items():
        if (
            key in ("data", "settings")
            and isinstance(value, dict)
            and isinstance(base.get(key), dict)
        ):
            merged[key] = {**base[key], **value}
        elif key != "stages":
            merged[key] = value
    stages = child.get("stages")
    base_stages = base.get("stages")
    if not isinstance(stages, dict) or not isinstance(base_stages, list):
        if stages is not None:
            merged["stages"] = stages
        keeps = stages is None
        return merged, problems, lambda loc: loc, keeps
    ids = [s.get("id") if isinstance(s, dict) else None for s in base_stages]
    new_stages: list[Any] = [dict(s) if isinstance(s, dict) else s for s in base_stages]
    for stage_id, override in stages.items():
        line, col = own.marked.locate(("stages", stage_id))
        if stage_id not in ids:
            known = [str(i) for i in ids if i]
            hint = did_you_mean(str(stage_id), known)
            msg = f"no stage '{stage_id}' in the base model (stages: {', '.join(known)})"
            problems.append(
                MapProblem(
                    own.display, line, col, f"stages.{stage_id}", f"{msg}; {hint}" if hint else msg
                )
            )
            continue
        if not isinstance(override, dict):
            msg = "expected a mapping of stage keys to override (events, within, …)"
            problems.append(MapProblem(own.display, line, col, f"stages.{stage_id}", msg))
            continue
        if "id" in override and override["id"] != stage_id:
            msg = "a stage override can't change the stage id"
            problems.append(MapProblem(own.display, line, col, f"stages.{stage_id}.id", msg))
        index = ids.index(stage_id)
        new_stages[index] = {**new_stages[index], **override}
    merged["stages"] = new_stages

    def translate(loc: Loc) -> Loc | None:
        if len(loc) >= 2 and loc[0] == "stages" and isinstance(loc[1], int):
            sid = ids[loc[1]] if loc[1] < len(ids) else None
            return ("stages", sid, *loc[2:]) if isinstance(sid, str) and sid in stages else None
        return loc

    return merged, problems, translate, True


def _locate(resolved: Resolved, loc: Loc) -> tuple[str, int, int]:
    """Return (file, line, col) of the source that holds the deepest part of ``loc``."""
    best: tuple[int, str, int, int] | None = None
    for src in resolved.sources:
        translated = src.translate(loc)
        if translated is None:
            continue
        for end in range(len(translated), 0, -1):
            pos = src.marked.marks.get(translated[:end])
            if pos is not None:
                if best is None or end > best[0]:
                    best = (end, src.display, *pos)
                break
    if best is None:
        first = resolved.sources[0] if resolved.sources else None
        return (first.display if first else "?", 1, 1)
    return best[1], best[2], best[3]


def _dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


# Which declaration sits at a key path, for "did you mean" on unknown keys.
def _model_at(loc: Loc) -> type[BaseModel] | None:
    shape = tuple("#" if isinstance(p, int) else p for p in loc)
    table: dict[tuple[str, ...], type[BaseModel]] = {
        (): schema.JourneyMap,
        ("stages", "#"): schema.Stage,
        ("stages", "#", "events", "#"): schema.EventMatcher,
        ("data",): schema.DataSpec,
        ("settings",): schema.Settings,
        ("settings", "exclusions", "#"): schema.Exclusion,
        ("spend",): schema.SpendSpec,
        ("targets", "#"): schema.Target,
    }
    return table.get(shape)


def _child(node: Any, part: str | int) -> tuple[bool, Any]:
    """Return (found, value) of ``node[part]`` for a dict key or an in-range list index."""
    if isinstance(node, dict) and part in node:
        return True, node[part]
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return True, node[part]
    return False, None


def _fields_at(loc: list[str | int]) -> dict[str, Any]:
    model = _model_at(tuple(loc))
    return dict(model.model_fields) if model else {}


def _clean_loc(raw: Any, loc: Loc) -> tuple[Loc, bool]:
    """Drop pydantic's union-member tags from ``loc``.

    Return the cleaned path and whether every union member named on the way fits the value
    actually there (an error from a member that can't fit is noise: a dict is not a string).
    """
    cleaned: list[str | int] = []
    node = raw
    fits = True
    for part in loc:
        found, child = _child(node, part)
        if found:
            cleaned.append(part)
            node = child
        elif isinstance(node, dict) and isinstance(part, str) and part in _fields_at(cleaned):
            cleaned.append(part)  # a missing key: keep it, it is the subject
            node = None
        elif isinstance(part, str):
            fits = fits and _member_fits(part, node)
    return tuple(cleaned), fits


def _member_fits(tag: str, value: Any) -> bool:
    if tag in ("str", "constrained-str"):
        return isinstance(value, str)
    if tag == "bool":
        return isinstance(value, bool)
    if tag in ("int", "float"):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if tag.startswith("list"):
        return isinstance(value, list)
    if tag.startswith("dict") or tag.endswith("Matcher"):
        return isinstance(value, dict)
    return True


def _pydantic_problems(exc: ValidationError, resolved: Resolved) -> list[MapProblem]:
    grouped: dict[Loc, list[tuple[bool, dict[str, Any]]]] = {}
    for err in exc.errors(include_url=False):
        loc, fits = _clean_loc(resolved.raw, tuple(err["loc"]))
        loc = _option_key(loc, dict(err))
        grouped.setdefault(loc, []).append((fits, dict(err)))
    problems: list[MapProblem] = []
    explained = [loc for loc, errs in grouped.items() if any(fits for fits, _ in errs)]
    for loc, errs in grouped.items():
        fitting = [e for fits, e in errs if fits]
        if not fitting and any(other[: len(loc)] == loc and other != loc for other in explained):
            continue  # a deeper error in the member that fits already says what is wrong
        # When no union member fits the value, one message is enough.
        chosen = fitting or [errs[0][1]]
        for message in dict.fromkeys(_message(e, loc) for e in chosen):
            file, line, col = _locate(resolved, loc)
            problems.append(MapProblem(file, line, col, _dotted(loc), message))
    return problems


def _option_key(loc: Loc, err: dict[str, Any]) -> Loc:
    # A stage-level check names the offending option first ('amount' applies only to …):
    # point at that key rather than at the whole stage.
    text = str(err.get("msg", ""))
    if err.get("type") == "value_error" and "' applies only to" in text:
        option = text.split("'")[1]
        return (*loc, option)
    return loc


_TYPE_NOUNS = {
    "list_type": "a list",
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "tuple_type": "a list",
}


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, int | float):
        return f"the number {value}"
    return f"{str(value)!r}"


def _message(err: dict[str, Any], loc: Loc) -> str:
    kind = err["type"]
    msg = str(err["msg"])
    if kind == "extra_forbidden" and loc:
        model = _model_at(loc[:-1])
        allowed = sorted(model.model_fields) if model else []
        hint = did_you_mean(str(loc[-1]), allowed)
        base = f"unknown key '{loc[-1]}'"
        return f"{base}; {hint}" if hint else f"{base} (allowed: {', '.join(allowed)})"
    if kind == "missing":
        return "required key is missing"
    if kind in _TYPE_NOUNS:
        return f"expected {_TYPE_NOUNS[kind]}, got {_describe(err.get('input'))}"
    if kind == "literal_error":
        return msg.replace("Input should be", "expected")
    if kind == "string_pattern_mismatch" and loc and loc[-1] == "id":
        return "expected an id of lowercase letters, digits and _ (starting with a letter)"
    if kind == "value_error":
        return msg.removeprefix("Value error, ")
    if kind == "too_short" and loc and loc[-1] == "stages":
        return "a model needs at least two stages"
    if kind == "too_short" and loc and loc[-1] == "events":
        return "a stage needs at least one event"
    return msg[0].lower() + msg[1:] if msg else kind


def _semantic_problems(
    model: schema.JourneyMap, resolved: Resolved, base_dir: Path
) -> list[MapProblem]:
    problems: list[MapProblem] = []

    def add(loc: Loc, message: str, severity: str = "error") -> None:
        file, line, col = _locate(resolved, loc)
        problems.append(MapProblem(file, line, col, _dotted(loc), message, severity))

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


def _sorted(problems: list[MapProblem]) -> list[MapProblem]:
    return sorted(problems, key=lambda p: (p.file, p.line, p.col))
