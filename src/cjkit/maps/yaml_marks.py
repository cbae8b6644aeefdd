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


def load_marked(text: str) -> Marked:
    """Parse YAML text safely; return the data and the marks. Raise YamlSyntaxError."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
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
    out.data = _build(node, (), out)
    return out


def _pos(node: yaml.Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


_PLAIN_TAGS = {
    f"tag:yaml.org,2002:{name}"
    for name in ("map", "seq", "str", "int", "float", "bool", "null", "timestamp")
}


def _build(node: yaml.Node, path: Path, out: Marked) -> Any:
    out.marks.setdefault(path, _pos(node))
    if node.tag not in _PLAIN_TAGS:
        line, col = _pos(node)
        tag = node.tag.replace("tag:yaml.org,2002:", "!!")
        msg = f"unsupported YAML tag '{tag}' (maps are plain YAML: no tags)"
        raise YamlSyntaxError(msg, line, col)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node)
            child = (*path, key if isinstance(key, str | int) else str(key))
            if key in result:
                out.duplicates.append((child, *_pos(key_node)))
                continue
            out.marks[child] = _pos(key_node)
            result[key] = _build(value_node, child, out)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), out) for i, item in enumerate(node.value)]
    return _scalar(node)


def _scalar(node: yaml.Node) -> Any:
    # One node at a time through the safe constructor: tags such as !!python/object are refused.
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()
