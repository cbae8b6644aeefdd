"""The published JSON Schemas of the outputs describe the golden outputs, and stay current.

``pytest tests/test_output_schemas.py --update-golden`` regenerates the schemas in
``src/cjkit/report/schemas/`` from ``tests/data/golden/*.json`` (with genson).
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from cjkit.report import schemas

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "data" / "golden"
SCHEMAS = ROOT / "src" / "cjkit" / "report" / "schemas"


def _documents() -> dict[str, list[dict[str, Any]]]:
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for path in sorted(GOLDEN.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        by_kind[doc["kind"]].append(doc)
    return dict(by_kind)


def _loosen(node: Any, top: bool) -> Any:
    """Return genson's schema with null-only keys open and nested ``required`` dropped."""
    if isinstance(node, dict):
        if node.get("type") == "null":
            return {}
        out = {k: _loosen(v, False) for k, v in node.items() if k != "required" or top}
        if "properties" in node:
            out["properties"] = {k: _loosen(v, False) for k, v in node["properties"].items()}
        return out
    if isinstance(node, list):
        return [_loosen(v, False) for v in node]
    return node


def generate(kind: str, docs: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the schema of ``kind`` from its sample documents."""
    from genson import SchemaBuilder

    builder = SchemaBuilder(schema_uri="https://json-schema.org/draft/2020-12/schema")
    for doc in docs:
        builder.add_object(doc)
    schema = _loosen(builder.to_schema(), True)
    schema["title"] = f"cjkit {kind} output"
    schema["properties"]["kind"] = {"const": kind}
    schema["properties"]["cjkit_version"] = {"type": "string"}
    schema["properties"]["generated_at"] = {"type": "string", "format": "date-time"}
    return dict(schema)


DOCS = _documents()


@pytest.mark.parametrize("kind", sorted(DOCS))
def test_schema_is_current_and_describes_the_goldens(kind: str, request: pytest.FixtureRequest) -> None:
    path = SCHEMAS / f"{kind}.schema.json"
    expected = json.dumps(generate(kind, DOCS[kind]), indent=2, sort_keys=True) + "\n"
    if request.config.getoption("--update-golden"):
        path.write_text(expected, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == expected, (
        f"{path.name} is out of date: rerun with --update-golden"
    )
    for doc in DOCS[kind]:
        jsonschema.validate(doc, schemas.load(kind))


def test_schema_rejects_a_wrong_document() -> None:
    doc = dict(DOCS["funnel"][0])
    doc["kind"] = "metrics"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, schemas.load("funnel"))


def test_cli_prints_each_schema(capsys: pytest.CaptureFixture[str]) -> None:
    from cjkit.cli import main

    assert main(["schema", "funnel"]) == 0
    assert json.loads(capsys.readouterr().out)["properties"]["kind"] == {"const": "funnel"}
    assert main(["schema"]) == 0
    assert "stages" in json.loads(capsys.readouterr().out)["properties"]
    assert main(["schema", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Error: no output kind 'nope' (expected one of map, ")
