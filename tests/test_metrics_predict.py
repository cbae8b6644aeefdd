"""A revenue stage's ``predict:`` section in ``cjkit metrics``: the same numbers as ``cjkit clv``
on the same data, validation at the map's line, and the bad inputs ``clv`` refuses."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cjkit.cli import app
from cjkit.errors import UsageError
from cjkit.maps import loader

pytest.importorskip("scipy")

ROOT = Path(__file__).resolve().parents[1]
CDNOW = ROOT / "examples" / "cdnow"
PREDICT = "    predict:\n      model: bg_nbd\n      horizon: 12 months\n"


def invoke(runner: CliRunner, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _cdnow_map(tmp_path: Path, predict: str = PREDICT) -> Path:
    text = (CDNOW / "map.yaml").read_text(encoding="utf-8")
    assert "    order_id: order_id\n" in text
    path = tmp_path / "cdnow.yaml"
    path.write_text(text.replace("    order_id: order_id\n", "    order_id: order_id\n" + predict))
    return path


def _stage(doc: dict[str, Any], stage_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in doc["stages"] if s["id"] == stage_id)
    return found


def test_predict_equals_clv_on_cdnow(runner: CliRunner, tmp_path: Path) -> None:
    """The predict section is ``cjkit clv``'s fit and totals: same params, same expected
    purchases, P(alive) and CLV (CDNOW: one currency, every buyer in the population)."""
    model = str(_cdnow_map(tmp_path))
    events = str(CDNOW / "events.parquet")
    code, out, err = invoke(runner, "metrics", events, "--model", model, "-f", "json")
    assert code == 0, err
    section = _stage(json.loads(out), "revenue")["metrics"]["predicted_value"]
    assert list(section) == ["USD"]  # keyed by currency, like the stage's money
    got = section["USD"]
    code, out, err = invoke(runner, "clv", events, "--model", model, "-f", "json")
    assert code == 0, err
    clv = json.loads(out)
    assert got["observation_end"] == clv["settings"]["observation_end"] == "1998-06-30"
    # The fits sort their rows first, so the same purchases give the same bits.
    assert got["params"] == clv["params"]
    totals = clv["totals"]
    assert got["units"] == totals["units"] == 23570
    assert got["repeat_buyers"] == totals["repeat_buyers"]
    assert got["expected_purchases"] == totals["expected_purchases"]  # money sums: exact
    assert got["clv"] == totals["clv"]
    assert got["mean_prob_alive"] == totals["mean_prob_alive"]
    assert got["clv_per_unit"] == pytest.approx(got["clv"] / got["units"])
    assert got["expected_purchases_per_unit"] == pytest.approx(
        got["expected_purchases"] / got["units"]
    )


def test_predict_rows_in_csv_table_and_markdown(runner: CliRunner, tmp_path: Path) -> None:
    model = str(_cdnow_map(tmp_path))
    events = str(CDNOW / "events.parquet")
    code, out, _ = invoke(runner, "metrics", events, "--model", model, "-f", "csv")
    assert code == 0
    rows = {r["metric"]: r for r in csv.DictReader(io.StringIO(out)) if r["segment"] == "(all)"}
    assert rows["predicted_value.clv"]["currency"] == "USD"
    assert float(rows["predicted_value.bg_nbd.r"]["value"]) > 0
    assert "predicted_value" not in rows  # flattened, never a nested object in a cell
    code, out, _ = invoke(runner, "metrics", events, "--model", model, "-f", "markdown")
    assert code == 0
    assert "Predicted value, next 12 months" in out
    assert "| USD: expected CLV per unit |" in out
    code, out, _ = invoke(runner, "metrics", events, "--model", model)
    assert code == 0
    assert "mean P(alive)" in out


EVENTS = """\
user_id,event,timestamp,amount
a,signup,2025-01-01T10:00:00Z,
a,purchase,2025-01-01T10:00:00Z,20
a,purchase,2025-01-09T10:00:00Z,30
a,purchase,2025-02-20T10:00:00Z,25
b,signup,2025-01-02T10:00:00Z,
b,purchase,2025-01-02T10:00:00Z,10
b,purchase,2025-03-01T10:00:00Z,15
c,signup,2025-01-05T10:00:00Z,
c,purchase,2025-01-05T10:00:00Z,40
d,signup,2025-01-07T10:00:00Z,
d,purchase,2025-01-07T10:00:00Z,12
d,purchase,2025-01-21T10:00:00Z,18
d,purchase,2025-02-11T10:00:00Z,22
d,purchase,2025-03-30T10:00:00Z,16
e,signup,2025-02-01T10:00:00Z,
e,purchase,2025-02-01T10:00:00Z,9
"""

MAP = """\
id: shop
name: Shop
stages:
  - id: signup
    name: Sign-up
    kind: acquisition
    events: [signup]
  - id: revenue
    name: Revenue
    kind: revenue
    events: [purchase]
    amount: amount
{predict}"""


def _small(tmp_path: Path, predict: str, events: str = EVENTS) -> tuple[str, str]:
    (tmp_path / "events.csv").write_text(events, encoding="utf-8")
    (tmp_path / "map.yaml").write_text(MAP.format(predict=predict), encoding="utf-8")
    return str(tmp_path / "events.csv"), str(tmp_path / "map.yaml")


def test_without_currency_the_section_is_one_object_and_equals_clv(
    runner: CliRunner, tmp_path: Path
) -> None:
    predict = "    predict: {model: bg_nbd, horizon: 26w, discount: 0.02, time_unit: day}\n"
    events, model = _small(tmp_path, predict)
    code, out, err = invoke(runner, "metrics", events, "--model", model, "-f", "json")
    assert code == 0, err
    got = _stage(json.loads(out), "revenue")["metrics"]["predicted_value"]
    assert (got["model"], got["time_unit"], got["discount"]) == ("bg_nbd", "day", 0.02)
    code, out, err = invoke(
        runner,
        "clv",
        events,
        "--model",
        model,
        "--horizon",
        "26w",
        "--discount",
        "0.02",
        "--time-unit",
        "day",
        "-f",
        "json",
    )
    assert code == 0, err
    clv = json.loads(out)
    assert got["params"] == clv["params"]
    assert got["units"] == clv["totals"]["units"] == 5
    assert got["clv"] == clv["totals"]["clv"]
    assert got["expected_purchases"] == clv["totals"]["expected_purchases"]


def test_built_in_output_has_no_predict_key(runner: CliRunner, tmp_path: Path) -> None:
    events, model = _small(tmp_path, "")
    code, out, _ = invoke(runner, "metrics", events, "--model", model, "-f", "json")
    assert code == 0
    assert "predicted_value" not in _stage(json.loads(out), "revenue")["metrics"]
    code, out, _ = invoke(runner, "models", "show", model, "-f", "json")
    assert code == 0
    assert "predict" not in out


@pytest.mark.parametrize(
    ("predict", "line", "words"),
    [
        ("    predict: {model: pareto_nbd, horizon: 12 months}\n", 12, "expected 'bg_nbd'"),
        ("    predict:\n      model: bg_nbd\n      horizon: 0 days\n", 12, "shorter than one week"),
        ("    predict: {model: bg_nbd, horizon: 3d, time_unit: week}\n", 12, "shorter than one"),
        ("    predict: {model: bg_nbd, horizon: soon}\n", 12, "expected a span"),
        ("    predict: {model: bg_nbd, horizon: 12mo, discount: 1.5}\n", 12, "less than 1"),
        ("    predict: {model: bg_nbd, horizon: 12mo, colour: red}\n", 12, "colour"),
    ],
)
def test_bad_predict_is_a_validate_error_at_its_line(
    tmp_path: Path, predict: str, line: int, words: str
) -> None:
    _, model = _small(tmp_path, predict)
    loaded, problems = loader.check(model)
    assert loaded is None
    found = [p.as_dict() for p in problems]
    assert any(words in p["message"] for p in found), found
    assert all(p["line"] is not None and p["line"] >= line for p in found), found


def test_predict_on_another_kind_is_an_error(tmp_path: Path) -> None:
    text = MAP.format(predict="").replace(
        "    events: [signup]\n",
        "    events: [signup]\n    predict: {model: bg_nbd, horizon: 12mo}\n",
    )
    (tmp_path / "map.yaml").write_text(text, encoding="utf-8")
    loaded, problems = loader.check(str(tmp_path / "map.yaml"))
    assert loaded is None
    assert any("only to a stage of kind revenue" in p.as_dict()["message"] for p in problems)


ONCE = """\
user_id,event,timestamp,amount
a,signup,2025-01-01T10:00:00Z,
a,purchase,2025-01-01T10:00:00Z,20
a,purchase,2025-01-01T18:00:00Z,5
b,signup,2025-01-02T10:00:00Z,
b,purchase,2025-01-02T10:00:00Z,10
"""


def test_no_repeat_buyers_is_one_line_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    """Two purchases on one day are one purchase day: nobody repeats, so BG/NBD can't fit."""
    events, model = _small(tmp_path, "    predict: {model: bg_nbd, horizon: 12mo}\n", ONCE)
    code, _, err = invoke(runner, "metrics", events, "--model", model)
    assert code == 2
    assert "bought on one day only" in err
    assert len(err.strip().splitlines()) == 1


def test_missing_scipy_is_the_clv_hint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cjkit.api.metrics import MetricsOptions, metrics

    events, model = _small(tmp_path, "    predict: {model: bg_nbd, horizon: 12mo}\n")
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "scipy" else real(name, *a)
    )
    with pytest.raises(UsageError, match="needs scipy") as info:
        metrics([events], MetricsOptions(model=model))
    assert "cjkit[stats]" in (info.value.hint or "")


def test_predict_in_passes_fits_every_unit(tmp_path: Path) -> None:
    """In passes over disjoint units, the fit still sees every unit's purchase days."""
    from cjkit import api

    model = str(_cdnow_map(tmp_path))
    events = [str(CDNOW / "events.parquet")]
    sections = []
    for passes in (1, 3):
        options = api.MetricsOptions(model=model, passes=passes)
        doc = api.metrics(events, options).to_dict()
        sections.append(_stage(doc, "revenue")["metrics"]["predicted_value"]["USD"])
    one, three = sections
    assert one["units"] == 23570
    assert three == one  # the same report, whatever the number of passes
