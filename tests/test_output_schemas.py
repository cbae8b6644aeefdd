"""The published JSON Schemas of the outputs describe the golden outputs, and stay current.

``pytest tests/test_output_schemas.py --update-golden`` regenerates the schemas in
``src/cjkit/report/schemas/`` from ``tests/data/golden/*.json`` (with genson), and those of the
outputs without goldens (``LIVE``: clv, paths, diagnose, journey, report, config) from their
commands run on the shipped examples. Every command with a JSON output has a schema.
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
    if any("kind" in doc for doc in docs):  # `config show` is settings, not a report
        schema["properties"]["kind"] = {"const": kind}
        schema["properties"]["cjkit_version"] = {"type": "string"}
        schema["properties"]["generated_at"] = {"type": "string", "format": "date-time"}
    return dict(schema)


DOCS = _documents()
SHOP = "examples/shop/events.parquet"
CDNOW = "examples/cdnow/events.parquet"
# The JSON outputs without a golden file: each schema is generated from these runs on the
# shipped examples (several per kind, so the optional blocks are in the schema too).
LIVE: dict[str, list[str]] = {
    "clv": [
        f"clv {CDNOW} --model examples/cdnow/map.yaml --horizon 52w --top 5",
        f"clv {CDNOW} --model examples/cdnow/map.yaml --holdout 26w",
    ],
    "paths": [
        f"paths {SHOP} --start visit --steps 4",
        f"paths {SHOP} --funnel-step -3 --after -s visit -s signup -s purchase --matrix",
        f"paths {SHOP} --end purchase --transitions",
    ],
    "diagnose": [
        f"diagnose {SHOP} --model examples/shop/map.yaml --compare previous",
        f"diagnose {SHOP} --model aarrr --by channel",
    ],
    "journey": [
        f"journey {SHOP} --unit u000042 --model aarrr",
        f"journey {SHOP} -u u000042 -s visit -s signup -s purchase",
    ],
    "report": [f"report {SHOP} --model examples/shop/map.yaml"],
    "config": ["--isolated config show", "--config {config} config show"],
}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    """Return the JSON documents of the ``LIVE`` runs, by kind."""
    from typer.testing import CliRunner

    from cjkit.cli import app

    config = tmp_path_factory.mktemp("config") / "cjkit.toml"
    config.write_text(
        'model = "aarrr"\nstrict = true\nby = ["channel"]\n[funnel]\nwindow = "7d"\n',
        encoding="utf-8",
    )
    runner = CliRunner()
    out: dict[str, list[dict[str, Any]]] = {}
    for kind, commands in LIVE.items():
        for command in commands:
            args = [*command.format(config=config).split(), "--format", "json"]
            result = runner.invoke(app, args, env={"NO_COLOR": "1"})
            assert result.exit_code == 0, (command, result.stderr)
            out.setdefault(kind, []).append(json.loads(result.stdout))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(LIVE))
def test_live_schema_is_current_and_describes_real_outputs(
    kind: str, live: dict[str, list[dict[str, Any]]], request: pytest.FixtureRequest
) -> None:
    path = SCHEMAS / f"{kind}.schema.json"
    expected = json.dumps(generate(kind, live[kind]), indent=2, sort_keys=True) + "\n"
    if request.config.getoption("--update-golden"):
        path.write_text(expected, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == expected, (
        f"{path.name} is out of date: rerun with --update-golden"
    )
    for doc in live[kind]:
        assert doc.get("kind", kind) == kind
        jsonschema.validate(doc, schemas.load(kind))


def test_every_json_output_has_a_schema() -> None:
    """Every kind a command prints as JSON (a golden or a LIVE run) has a published schema."""
    assert set(schemas.kinds()) == set(DOCS) | set(LIVE)


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
