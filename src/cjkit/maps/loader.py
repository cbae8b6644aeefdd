"""Read models and journey maps: YAML with line marks → ``JourneyMap``, or every problem at once.

A map may ``extends:`` a built-in model or another map (a path relative to it). Stages given as a
mapping override the base's stages by id. Each problem is reported as
``FILE:LINE:COL: key.path: message``, pointing into whichever file the offending key came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from cjkit.errors import ConfigError, MapInvalid, MapProblem, did_you_mean
from cjkit.maps import schema
from cjkit.maps.problems import (
    Loc,
    Resolved,
    Source,
    Translate,
    dotted,
    locate,
    pydantic_problems,
    sorted_problems,
)
from cjkit.maps.problems import display_path as display_path  # re-exported: loader.display_path
from cjkit.maps.semantics import semantic_problems
from cjkit.maps.yaml_marks import Marked, YamlSyntaxError, load_marked

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
        return locate(self.resolved, loc)

    @property
    def base_dir(self) -> Path:
        """Return the folder that relative paths in the map (spend file) are read from."""
        return self.path.parent if self.path else Path.cwd()


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
        return None, sorted_problems(problems)
    raw = resolved.raw
    raw.setdefault("id", _id_from_stem(path.stem))
    try:
        model = schema.JourneyMap.model_validate(raw)
    except ValidationError as exc:
        problems.extend(pydantic_problems(exc, resolved))
        return None, sorted_problems(problems)
    problems.extend(semantic_problems(model, resolved, path.parent))
    if problems:
        return None, sorted_problems(problems)
    lines = tuple(locate(resolved, ("targets", i))[1] for i in range(len(model.targets)))
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
        MapProblem(display, line, col, dotted(p), f"duplicate key '{p[-1]}'")
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
