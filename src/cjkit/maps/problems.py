"""Where a map's problem is and what it says: pydantic's errors as ``FILE:LINE:COL: key: message``.

A resolved map (:class:`Resolved`) keeps the YAML marks of each file it came from and how a merged
key path translates into that file, so :func:`locate` finds a key's line in whichever file holds
it. :func:`pydantic_problems` turns a ValidationError into one problem per key path in plain words:
unknown keys with "did you mean", types as nouns, and no noise from union members that can't fit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from cjkit import kinds as kind_registry
from cjkit.errors import MapProblem, did_you_mean
from cjkit.maps import schema
from cjkit.maps.yaml_marks import Marked

Loc = tuple[str | int, ...]
Translate = Callable[[Loc], Loc | None]
KIND_OPTIONS = "kind_options"  # Stage's field of the keys a kind's options model declares


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


def display_path(path: Path) -> str:
    """Return ``path`` relative to the working folder when it lies below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def locate(resolved: Resolved, loc: Loc) -> tuple[str, int, int]:
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


def dotted(loc: Loc) -> str:
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
        if part == KIND_OPTIONS and isinstance(node, dict) and part not in node:
            continue  # a kind option is written as a key of the stage itself
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


def pydantic_problems(exc: ValidationError, resolved: Resolved) -> list[MapProblem]:
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
            file, line, col = locate(resolved, loc)
            problems.append(MapProblem(file, line, col, dotted(loc), message))
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
        if model is schema.Stage:  # the kinds' own keys are stage keys too
            allowed = sorted({*allowed, *kind_registry.model_options()} - {KIND_OPTIONS})
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


def sorted_problems(problems: list[MapProblem]) -> list[MapProblem]:
    return sorted(problems, key=lambda p: (p.file, p.line, p.col))
