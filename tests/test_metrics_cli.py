"""``cjkit metrics`` from the command line: formats, streams, flags and one-line errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cjkit.cli import app

EVENTS = """\
user_id,event,timestamp,channel,amount,currency,order_id,score,persona
a,visit,2025-03-03T10:00:00Z,paid,,,,,fan
a,onboarding_complete,2025-03-03T10:20:00Z,,,,,,fan
a,purchase,2025-03-04T10:00:00Z,,30,USD,o1,,fan
a,visit,2025-03-11T10:00:00Z,paid,,,,,fan
a,invite_sent,2025-03-12T10:00:00Z,,,,,,fan
b,visit,2025-03-03T11:00:00Z,organic,,,,,casual
b,nps_survey,2025-03-05T11:00:00Z,,,,,9,casual
c,visit,2025-03-10T09:00:00Z,organic,,,,,casual
"""

SPEND = "date,channel,amount\n2025-03-03,paid,12\n"


@pytest.fixture
def data(tmp_path: Path) -> Path:
    (tmp_path / "events.csv").write_text(EVENTS, encoding="utf-8")
    (tmp_path / "spend.csv").write_text(SPEND, encoding="utf-8")
    return tmp_path


def invoke(runner: CliRunner, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_json_on_stdout_follows_the_contract(runner: CliRunner, data: Path) -> None:
    code, out, err = invoke(
        runner, "metrics", str(data / "events.csv"), "--model", "aarrr", "-f", "json"
    )
    assert code == 0, err
    doc = json.loads(out)
    assert doc["schema_version"] == 1
    assert doc["kind"] == "metrics"
    assert doc["model"] == {"id": "aarrr", "name": "AARRR (pirate metrics)", "file": None}
    assert set(doc["source"]) >= {"files", "rows", "units", "start", "end"}
    assert doc["source"]["rows"] == 8
    assert doc["source"]["units"] == 3
    assert [s["id"] for s in doc["stages"]] == [
        "acquisition",
        "activation",
        "retention",
        "referral",
        "revenue",
    ]
    for s in doc["stages"]:
        assert set(s) >= {
            "id",
            "name",
            "kind",
            "count",
            "conversion_from_previous",
            "conversion_from_start",
            "drop_off",
            "time_to_convert",
            "metrics",
        }
        assert "median_time_to_convert_s" in s["metrics"]
    assert doc["retention"]["stage"] == "retention"
    assert doc["breakdowns"] == []
    assert doc["checks"] == []
    # 3 units visit; a onboards 20 minutes after its first visit: activation 1/3.
    activation = doc["stages"][1]
    assert activation["metrics"]["rate"] == pytest.approx(1 / 3)
    assert activation["metrics"]["median_time_to_activate_s"] == 1200.0
    assert activation["ci"]["rate"]["low"] < 1 / 3 < activation["ci"]["rate"]["high"]
    assert doc["stages"][4]["metrics"]["revenue"] == {"USD": 30.0}


def test_table_reads_stage_by_stage(runner: CliRunner, data: Path) -> None:
    code, out, err = invoke(
        runner,
        "metrics",
        str(data / "events.csv"),
        "--model",
        "aarrr",
        "--spend",
        str(data / "spend.csv"),
        "--explain",
    )
    assert code == 0, err
    assert "\x1b[" not in out  # not a TTY: plain text
    positions = [
        out.index(f"{i}. {name}")
        for i, name in enumerate(
            ["Acquisition", "Activation", "Retention", "Referral", "Revenue"], start=1
        )
    ]
    assert positions == sorted(positions)
    assert "Where do customers come from?" in out
    assert "CAC (spend / new units)" in out
    assert "12.00" in out  # the spend
    assert "4.00" in out  # CAC = 12 / 3 new units
    assert "A person reaches the site or app" in out  # --explain shows descriptions


def test_table_fits_80_columns(data: Path) -> None:
    runner = CliRunner(env={"COLUMNS": "80", "NO_COLOR": "1"})
    code, out, err = invoke(runner, "metrics", str(data / "events.csv"), "-m", "coleman-8")
    assert code == 0, err
    assert max(len(line) for line in out.splitlines()) <= 80


def test_csv_is_tidy(runner: CliRunner, data: Path) -> None:
    code, out, err = invoke(
        runner, "metrics", str(data / "events.csv"), "-m", "aarrr", "-f", "csv", "--by", "channel"
    )
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == [
        "by",
        "segment",
        "stage",
        "kind",
        "metric",
        "currency",
        "value",
        "ci_low",
        "ci_high",
    ]
    rate = [r for r in rows if r["segment"] == "(all)" and r["metric"] == "rate"]
    assert len(rate) == 1
    assert float(rate[0]["value"]) == pytest.approx(1 / 3)
    paid = [
        r
        for r in rows
        if r["by"] == "channel" and r["segment"] == "paid" and r["metric"] == "count"
    ]
    assert [r["value"] for r in paid][:2] == ["1", "1"]
    revenue = [r for r in rows if r["segment"] == "(all)" and r["metric"] == "revenue"]
    assert revenue[0]["currency"] == "USD"
    assert float(revenue[0]["value"]) == 30.0


def test_markdown(runner: CliRunner, data: Path) -> None:
    code, out, err = invoke(
        runner, "metrics", str(data / "events.csv"), "-m", "aarrr", "-f", "markdown"
    )
    assert code == 0, err
    assert out.startswith("## AARRR (pirate metrics) (`aarrr`)")
    assert "### 2. Activation (activation)" in out
    assert "| activation rate | 33.3%" in out


def test_by_is_repeatable_one_breakdown_each(runner: CliRunner, data: Path) -> None:
    code, out, err = invoke(
        runner,
        "metrics",
        str(data / "events.csv"),
        "-m",
        "aarrr",
        "--by",
        "channel",
        "--by",
        "persona",
        "-f",
        "json",
    )
    assert code == 0, err
    doc = json.loads(out)
    assert [b["by"] for b in doc["breakdowns"]] == ["channel", "persona"]
    channel = {g["value"]: g["units"] for g in doc["breakdowns"][0]["groups"]}
    assert channel == {"organic": 2, "paid": 1}


def test_output_file_and_period_flag(runner: CliRunner, data: Path) -> None:
    target = data / "out.json"
    code, out, err = invoke(
        runner,
        "metrics",
        str(data / "events.csv"),
        "-m",
        "aarrr",
        "--period",
        "day",
        "-f",
        "json",
        "-o",
        str(target),
    )
    assert code == 0, err
    assert out == ""
    doc = json.loads(target.read_text(encoding="utf-8"))
    assert doc["settings"]["period"] == "day"
    # --period also sets the retention stage's period.
    assert doc["stages"][2]["detail"]["period"] == "day"
    by_period = doc["stages"][0]["tables"]["by_period"]
    assert by_period[0] == {"period": "2025-03-03", "new_units": 2}
    assert len(by_period) == 10  # 2025-03-03 .. 2025-03-12


def test_since_until_and_tz(runner: CliRunner, data: Path) -> None:
    code, out, err = invoke(
        runner,
        "metrics",
        str(data / "events.csv"),
        "-m",
        "aarrr",
        "--since",
        "2025-03-10",
        "--until",
        "2025-03-12",
        "--tz",
        "Asia/Ho_Chi_Minh",
        "-f",
        "json",
    )
    assert code == 0, err
    doc = json.loads(out)
    # From 2025-03-10 00:00 in UTC+7: a's visit on 03-11 and c's on 03-10 09:00 UTC.
    assert doc["population"] == {"units": 2, "acquired": 1, "first_stage": "acquisition"}
    assert doc["settings"]["timezone"] == "Asia/Ho_Chi_Minh"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-m", "aarr"], "unknown model 'aarr'"),
        (["-m", "aarrr", "--by", "country"], "--by: no column 'country'"),
        (["-m", "aarrr", "--period", "fortnight"], "--period: expected one of"),
        (["-m", "aarrr", "--spend", "missing.csv"], "spend file missing.csv: no such file"),
        (["-m", "aarrr", "-f", "yaml"], "--format: expected one of"),
        (["-m", "aarrr", "--since", "2025-13-01"], "--since: can't read"),
    ],
)
def test_bad_input_is_one_line_exit_2(
    runner: CliRunner, data: Path, args: list[str], message: str
) -> None:
    code, out, err = invoke(runner, "metrics", str(data / "events.csv"), *args)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("Error: ")
    assert message in err


def test_spend_without_amount(runner: CliRunner, data: Path) -> None:
    (data / "bad.csv").write_text("date,channel,cost\n2025-03-03,paid,1\n", encoding="utf-8")
    code, _, err = invoke(
        runner, "metrics", str(data / "events.csv"), "-m", "aarrr", "--spend", str(data / "bad.csv")
    )
    assert code == 2
    assert "has no amount column 'amount'" in err
    assert err.count("\n") == 1


def test_shop_map_segments_are_the_default_breakdowns(runner: CliRunner) -> None:
    shop = Path(__file__).resolve().parents[1] / "examples" / "shop"
    code, out, err = invoke(
        runner, "metrics", str(shop / "events.parquet"), "-m", str(shop / "map.yaml"), "-f", "json"
    )
    assert code == 0, err
    doc = json.loads(out)
    assert [b["by"] for b in doc["breakdowns"]] == ["channel", "persona"]
    assert doc["settings"]["spend"].endswith("spend.csv")
    assert doc["stages"][0]["metrics"]["cac"] > 0
    assert {c["metric"] for c in doc["checks"]} >= {"activation.rate", "retention.period_4"}
