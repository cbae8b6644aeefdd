"""Golden outputs: every command x format on the shipped examples, compared with
``tests/data/golden/``.

``pytest tests/test_golden.py --update-golden`` rewrites the files (review the diff before
committing). On a mismatch the new output is written to ``tests/.results/golden/`` (sqlfmt's
style), so ``diff -r tests/data/golden tests/.results/golden`` shows what changed.

JSON floats compare with a relative tolerance of 1e-9, and CSV cells that parse as floats the
same way: the money sums of ``metrics``/``check`` are summed in a thread-dependent order, so
their last digits vary from run to run. Everything else (keys, strings, integers, tables,
Markdown) must match exactly.
"""

from __future__ import annotations

import csv
import io
import json
import math
import shlex
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cjkit.cli import app

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "data" / "golden"
RESULTS = ROOT / "tests" / ".results" / "golden"
SHOP = "examples/shop/events.parquet"
ALL = ("table", "json", "csv", "markdown")
EXTENSIONS = {"table": "txt", "json": "json", "csv": "csv", "markdown": "md"}

CASES: dict[str, tuple[str, tuple[str, ...]]] = {
    "funnel_aarrr": (f"funnel {SHOP} --model aarrr", ALL),
    "funnel_steps_by": (f"funnel {SHOP} -s visit -s signup -s purchase --by channel", ALL),
    "inspect": (f"inspect {SHOP}", ALL),
    "retention": (f"retention {SHOP}", ALL),
    "lifecycle": (f"lifecycle {SHOP}", ALL),
    "stickiness": (f"stickiness {SHOP}", ALL),
    "metrics_aarrr": (f"metrics {SHOP} --model aarrr", ALL),
    "metrics_map": (f"metrics {SHOP} --model examples/shop/map.yaml", ALL),
    "check_map": (f"check {SHOP} --model examples/shop/map.yaml", ("table", "json", "markdown")),
    "models_list": ("models list", ALL),
    "models_show": ("models show aarrr", ALL),
    "validate_map": ("validate examples/shop/map.yaml", ("table", "json")),
    "metrics_cdnow": ("metrics examples/cdnow/events.parquet --model examples/cdnow/map.yaml", ALL),
}
# Cases whose command takes seconds (a full pass over the shop's 950k events).
SLOW = {"funnel_aarrr", "funnel_steps_by", "metrics_aarrr", "metrics_map", "check_map"}
ENV = {"NO_COLOR": "1", "COLUMNS": "100", "SOURCE_DATE_EPOCH": "0"}


def _params() -> list[Any]:
    params = []
    for name, (_, formats) in CASES.items():
        marks = [pytest.mark.slow] if name in SLOW else []
        params.extend(pytest.param(name, fmt, id=f"{name}-{fmt}", marks=marks) for fmt in formats)
    return params


def _same(expected: Any, actual: Any) -> bool:
    """Return whether two parsed documents match: floats within 1e-9, all else exactly."""
    if isinstance(expected, float) and isinstance(actual, float):
        return math.isclose(expected, actual, rel_tol=1e-9, abs_tol=0.0)
    if isinstance(expected, dict) and isinstance(actual, dict):
        return list(expected) == list(actual) and all(_same(expected[k], actual[k]) for k in expected)
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(map(_same, expected, actual))
    return type(expected) is type(actual) and expected == actual


def _csv_cell(text: str) -> Any:
    if any(c in text for c in ".eE") and not text.isalpha():
        try:
            return float(text)
        except ValueError:
            return text
    return text


def _matches(fmt: str, expected: str, actual: str) -> bool:
    if expected == actual:
        return True
    if fmt == "json":
        return _same(json.loads(expected), json.loads(actual))
    if fmt == "csv":
        def rows(text: str) -> list[list[Any]]:
            return [[_csv_cell(c) for c in row] for row in csv.reader(io.StringIO(text))]

        return _same(rows(expected), rows(actual))
    return False


@pytest.mark.parametrize(("name", "fmt"), _params())
def test_golden(
    name: str, fmt: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)  # the reports name their files relative to the project
    command, _ = CASES[name]
    done = CliRunner(env=ENV).invoke(app, [*shlex.split(command), "--format", fmt])
    assert done.exit_code in (0, 1), done.stderr
    actual = done.stdout
    golden = GOLDEN / f"{name}.{EXTENSIONS[fmt]}"
    if request.config.getoption("--update-golden"):
        golden.write_text(actual, encoding="utf-8")
        return
    expected = golden.read_text(encoding="utf-8")
    if not _matches(fmt, expected, actual):
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / golden.name).write_text(actual, encoding="utf-8")
        pytest.fail(
            f"cjkit {command} --format {fmt} differs from {golden.relative_to(ROOT)}; the new "
            f"output is in {(RESULTS / golden.name).relative_to(ROOT)} (rerun with "
            "--update-golden if the change is intended)"
        )


def test_matcher_tolerates_float_noise_only() -> None:
    assert _matches("json", '{"a": 0.30000000000000004}', '{"a": 0.3}')
    assert not _matches("json", '{"a": 0.31}', '{"a": 0.3}')
    assert not _matches("json", '{"a": 1}', '{"a": 1.0}')
    assert not _matches("json", '{"a": 1, "b": 2}', '{"b": 2, "a": 1}')
    assert _matches("csv", "x,y\nEUR,230710.54000000004\n", "x,y\nEUR,230710.53999999998\n")
    assert not _matches("csv", "x\nEUR\n", "x\nUSD\n")
    assert not _matches("table", "1.0\n", "1.00\n")
