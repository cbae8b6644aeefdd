"""One serializer for the report dataclasses: ``to_dict()`` from the fields.

A class whose JSON is its fields in declaration order declares nothing. Otherwise three class
variables say what differs, and a hook gives what a field can't give directly:

* ``json_keys``: the JSON keys in order (default: the fields). A key is a field, a property, or
  a hook method ``_json_<key>()`` (a computed block, a renamed key, a key left out when empty);
* ``json_hidden``: fields that are not in the JSON (``warnings`` is for the CLI to print);
* ``json_merged``: a dict field whose items are appended at the end (the insight ``extra``).

A hook that returns :data:`OMIT` leaves its key out. A :class:`Document` (a whole report) starts
with ``schema_version`` and ``kind``. Values: a :class:`Serial` becomes its dict and a list of
them a list of dicts; anything else (numbers, text, plain dicts and lists) is kept as it is.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, ClassVar

SCHEMA_VERSION = 1


class _Omit:
    """The value of a hook whose key is left out of the JSON."""

    def __repr__(self) -> str:
        return "OMIT"


OMIT: Any = _Omit()


def plain(value: Any) -> Any:
    """Return ``value`` for the JSON: a Serial as its dict, a list of Serials as dicts."""
    if isinstance(value, Serial):
        return value.to_dict()
    if isinstance(value, list) and any(isinstance(v, Serial) for v in value):
        return [plain(v) for v in value]
    return value


class Serial:
    """Mixin for frozen dataclasses: ``to_dict()`` from the fields (see the module docstring)."""

    json_keys: ClassVar[tuple[str, ...] | None] = None
    json_hidden: ClassVar[frozenset[str]] = frozenset()
    json_merged: ClassVar[str | None] = None

    def _json_key_order(self) -> tuple[str, ...]:
        if self.json_keys is not None:
            return self.json_keys
        skip = self.json_hidden | {self.json_merged}
        return tuple(f.name for f in fields(self) if f.name not in skip)  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        out: dict[str, Any] = {}
        for key in self._json_key_order():
            hook = getattr(self, f"_json_{key}", None)
            value = hook() if hook is not None else plain(getattr(self, key))
            if value is not OMIT:
                out[key] = value
        if self.json_merged is not None:
            out.update(getattr(self, self.json_merged))
        return out


class Document(Serial):
    """A whole report: ``schema_version`` and ``kind`` first, then the keys of :class:`Serial`.

    ``rich.print(report)`` draws it as the CLI's table format does: :meth:`__rich__` imports the
    renderer only then, so the report layer never imports rich itself.
    """

    kind: str

    def _json_key_order(self) -> tuple[str, ...]:
        return tuple(k for k in super()._json_key_order() if k != "kind")

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON document (``schemas/<kind>.schema.json`` describes it)."""
        return {"schema_version": SCHEMA_VERSION, "kind": self.kind, **super().to_dict()}

    def __rich__(self) -> Any:
        """Return the report drawn for rich: the table of ``--format table``."""
        # Imported here, on drawing only: the report layer imports no rich (pyproject.toml's
        # import contracts allow this one edge, and nothing else in report imports render).
        from cjkit.render.draw import renderable

        return renderable(self)
