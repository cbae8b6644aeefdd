"""JSON Schemas of the JSON outputs, one file per report kind (``<kind>.schema.json``).

They are derived from the golden outputs (``tests/data/golden``) by
``tests/test_output_schemas.py --update-golden`` (genson, then loosened: a key seen only as
null takes any value, and only the top-level keys are required), and that test checks every
golden document against its schema. ``cjkit schema KIND`` prints one.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from cjkit.errors import UsageError


def kinds() -> list[str]:
    """Return the report kinds that have a published schema."""
    files = resources.files(__name__).iterdir()
    return sorted(f.name.removesuffix(".schema.json") for f in files if f.name.endswith(".schema.json"))


def load(kind: str) -> dict[str, Any]:
    """Return the JSON Schema of ``kind``'s JSON output; raise UsageError for an unknown kind."""
    if kind not in kinds():
        raise UsageError(f"no output kind {kind!r} (expected one of map, {', '.join(kinds())})")
    text = resources.files(__name__).joinpath(f"{kind}.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
