"""Safe YAML loading that remembers where every key and value stands (line and column).

PyYAML's safe loader drops positions and silently keeps the last of two duplicate keys. Here we
compose the node tree ourselves, so each problem can point at ``file:line:col`` and duplicate
keys become errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[str | int, ...]


@dataclass
class Marked:
    """A loaded document plus the 1-based (line, col) of every key path in it."""

    data: Any
    marks: dict[Path, tuple[int, int]] = field(default_factory=dict)
    duplicates: list[tuple[Path, int, int]] = field(default_factory=list)

    def locate(self, path: Path) -> tuple[int, int]:
        """Return the position of the deepest prefix of ``path`` that has a mark."""
        for end in range(len(path), -1, -1):
            found = self.marks.get(path[:end])
            if found is not None:
                return found
        return (1, 1)


class YamlSyntaxError(Exception):
    """A YAML syntax error with its 1-based line and column."""

    def __init__(self, message: str, line: int, col: int) -> None:
        super().__init__(message)
        self.line = line
        self.col = col


# Bounds for hostile maps: a real map has a few hundred values, nests a few levels and rarely
# uses an alias. An alias bomb ("billion laughs") expands exponentially; deep nesting
# overflows the recursion of PyYAML and of the validation.
MAX_DEPTH = 64
MAX_ALIASES = 1_000
MAX_VALUES = 100_000


class _Budget:
    """Counts the values built and the aliases followed while building one document."""

    def __init__(self) -> None:
        self.values = 0
        self.aliases = 0
        self.seen: set[int] = set()

    def spend(self, node: yaml.Node, depth: int) -> None:
        line, col = _pos(node)
        if depth > MAX_DEPTH:
            msg = f"the map nests deeper than {MAX_DEPTH} levels"
            raise YamlSyntaxError(msg, line, col)
        self.values += 1
        if self.values > MAX_VALUES:
            msg = f"the map expands to more than {MAX_VALUES:,} values (YAML aliases?)"
            raise YamlSyntaxError(msg, line, col)
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            if id(node) in self.seen:  # the same node again: an alias (*name) to it
                self.aliases += 1
                if self.aliases > MAX_ALIASES:
                    msg = f"the map uses more than {MAX_ALIASES:,} YAML aliases"
                    raise YamlSyntaxError(msg, line, col)
            self.seen.add(id(node))


def load_marked(text: str) -> Marked:
    """Parse YAML text safely; return the data and the marks. Raise YamlSyntaxError.

    Documents nested deeper than :data:`MAX_DEPTH`, expanding (through aliases) to more than
    :data:`MAX_VALUES` values, or with more than :data:`MAX_ALIASES` aliases are refused.
    """
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:
        raise YamlSyntaxError(f"the map nests deeper than {MAX_DEPTH} levels", 1, 1) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlSyntaxError(f"YAML syntax error: {problem}", line, col) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(f"YAML error: {exc}", 1, 1) from None
    out = Marked(data=None)
    if node is None:
        return out
    out.data = _build(node, (), out, _Budget())
    return out


def _pos(node: yaml.Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


_PLAIN_TAGS = {
    f"tag:yaml.org,2002:{name}"
    for name in ("map", "seq", "str", "int", "float", "bool", "null", "timestamp")
}


def _check_tag(node: yaml.Node) -> None:
    if node.tag not in _PLAIN_TAGS:
        line, col = _pos(node)
        tag = node.tag.replace("tag:yaml.org,2002:", "!!")
        msg = f"unsupported YAML tag '{tag}' (maps are plain YAML: no tags)"
        raise YamlSyntaxError(msg, line, col)


def _build(node: yaml.Node, path: Path, out: Marked, budget: _Budget) -> Any:
    budget.spend(node, len(path))
    out.marks.setdefault(path, _pos(node))
    _check_tag(node)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _key(key_node)
            child = (*path, key if isinstance(key, str | int) else str(key))
            if key in result:
                out.duplicates.append((child, *_pos(key_node)))
                continue
            out.marks[child] = _pos(key_node)
            result[key] = _build(value_node, child, out, budget)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), out, budget) for i, item in enumerate(node.value)]
    return _scalar(node)


def _key(node: yaml.Node) -> Any:
    """A mapping key: a plain scalar (no tag, no list or mapping as a key)."""
    _check_tag(node)
    if not isinstance(node, yaml.ScalarNode):
        line, col = _pos(node)
        raise YamlSyntaxError("a key must be a plain value, not a list or a mapping", line, col)
    return _scalar(node)


def _scalar(node: yaml.Node) -> Any:
    # One node at a time through the safe constructor: tags such as !!python/object are refused.
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, OverflowError) as exc:
        # e.g. a timestamp-shaped value that is no date (2025-13-45)
        line, col = _pos(node)
        raise YamlSyntaxError(f"can't read the value {node.value!r}: {exc}", line, col) from None
    finally:
        loader.dispose()
