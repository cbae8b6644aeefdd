"""The retention, lifecycle and stickiness commands: JSON on stdout, messages on stderr, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cjkit.cli import app, main

# a: W0 W1 W3; b: W0 W2; c: W1 W2 W3; d: W2 (Monday weeks from 2025-01-06; data ends mid-W3).
CSV = """user_id,event,timestamp,channel
a,signup,2025-01-06T09:00:00Z,ads
a,open,2025-01-07T09:00:00Z,ads
a,open,2025-01-14T09:00:00Z,
a,open,2025-01-28T09:00:00Z,
b,signup,2025-01-07T10:00:00Z,seo
b,open,2025-01-21T10:00:00Z,
c,signup,2025-01-15T10:00:00Z,ads
c,open,2025-01-22T10:00:00Z,
c,open,2025-01-29T12:00:00Z,
d,signup,2025-01-20T10:00:00Z,seo
"""


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "events.csv"
    path.write_text(CSV, encoding="utf-8")
    return path


def invoke(runner: CliRunner, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_retention_json(runner: CliRunner, data: Path) -> None:
    code, out, err = invoke(runner, "retention", str(data), "--periods", "3", "-f", "json")
    assert code == 0, err
    assert err == ""
    doc = json.loads(out)
    assert doc["kind"] == "retention"
    assert doc["schema_version"] == 1
    assert doc["settings"]["period"] == "week"
    assert doc["settings"]["cohort"] == "recurring"
    assert [(c["cohort"], c["counts"]) for c in doc["cohorts"]] == [
        ("2025-01-06", [2, 1, 1, 1]),
        ("2025-01-13", [2, 1, 2, 0]),
        ("2025-01-20", [3, 1, 0, 0]),
        ("2025-01-27", [2, 0, 0, 0]),
    ]
    assert doc["average"]["rates"] == [1.0, 0.5, 0.5, None]
    assert doc["periods"][1]["churn_rate"] == 0.5
    assert doc["breakdown"] is None
    assert doc["source"]["files"] == [str(data)]


def test_retention_first_time_since_and_by(runner: CliRunner, data: Path) -> None:
    code, out, err = invoke(
        runner,
        "retention",
        str(data),
        "--start-event",
        "signup",
        "--return-event",
        "open|signup",
        "--cohort",
        "first-time",
        "--cumulative",
        "--since",
        "2025-01-13",
        "--periods",
        "2",
        "--by",
        "channel",
        "-f",
        "json",
    )
    assert code == 0, err
    doc = json.loads(out)
    # a and b signed up before --since: only c (W1) and d (W2) open cohorts.
    assert [(c["cohort"], c["counts"]) for c in doc["cohorts"]] == [
        ("2025-01-13", [1, 1, 1]),
        ("2025-01-20", [1, 0, 0]),
        ("2025-01-27", [0, 0, 0]),
    ]
    groups = {g["value"]: [c["counts"] for c in g["cohorts"]] for g in doc["breakdown"]["groups"]}
    assert groups == {
        "ads": [[1, 1, 1], [0, 0, 0], [0, 0, 0]],
        "seo": [[0, 0, 0], [1, 0, 0], [0, 0, 0]],
    }
    assert doc["settings"]["start_event"] == "signup"
    assert doc["settings"]["cumulative"] is True


def test_retention_filters_in_event_flags(runner: CliRunner, data: Path) -> None:
    code, out, err = invoke(
        runner,
        "retention",
        str(data),
        "--start-event",
        "signup[channel=ads]",
        "-n",
        "1",
        "-f",
        "json",
    )
    assert code == 0, err
    sizes = [c["size"] for c in json.loads(out)["cohorts"]]
    assert sizes == [1, 1, 0, 0]  # a in W0, c in W1; W2 and W3 empty


def test_retention_table_csv_markdown(runner: CliRunner, data: Path, tmp_path: Path) -> None:
    code, out, err = invoke(runner, "retention", str(data), "--periods", "3")
    assert code == 0, err
    assert "2025-01-06" in out
    assert "average" in out
    assert "50.0%" in out
    assert "*" in out  # the incomplete cells are marked
    code, out, _ = invoke(runner, "retention", str(data), "--periods", "3", "-f", "csv")
    assert code == 0
    assert out.splitlines()[0] == "segment,cohort,period,size,count,rate,complete"
    code, out, _ = invoke(runner, "retention", str(data), "-n", "2", "-f", "markdown")
    assert code == 0
    assert "| 2025-01-06 | 2 | 50.0% | 50.0% |" in out
    target = tmp_path / "out.json"
    code, out, _ = invoke(runner, "retention", str(data), "-f", "json", "-o", str(target))
    assert code == 0
    assert out == ""
    assert json.loads(target.read_text(encoding="utf-8"))["kind"] == "retention"


def test_lifecycle_json_and_table(runner: CliRunner, data: Path) -> None:
    code, out, err = invoke(runner, "lifecycle", str(data), "-f", "json")
    assert code == 0, err
    assert err == ""
    doc = json.loads(out)
    assert doc["kind"] == "lifecycle"
    assert [
        (p["period"], p["new"], p["returning"], p["resurrecting"], p["dormant"])
        for p in doc["periods"]
    ] == [
        ("2025-01-06", 2, 0, 0, 0),
        ("2025-01-13", 1, 1, 0, -1),
        ("2025-01-20", 1, 1, 1, -1),
        ("2025-01-27", 0, 1, 1, -2),
    ]
    assert doc["settings"]["new_basis"] == "event"
    code, out, _ = invoke(runner, "lifecycle", str(data), "--period", "month")
    assert code == 0
    assert "resurrecting" in out
    assert "2025-01-01" in out


def test_stickiness_json(runner: CliRunner, data: Path) -> None:
    code, out, err = invoke(runner, "stickiness", str(data), "--event", "open", "-f", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["kind"] == "stickiness"
    # open events: a W0 W1 W3 (3), b W2 (1), c W2 W3 (2); range W0..W3.
    assert doc["counts"] == [
        {"periods": 1, "units": 1},
        {"periods": 2, "units": 1},
        {"periods": 3, "units": 1},
        {"periods": 4, "units": 0},
    ]
    assert doc["avg_active_periods"] == 2.0
    code, out, _ = invoke(runner, "stickiness", str(data))
    assert code == 0
    assert "Average active periods" in out


def test_dropped_rows_warn_on_stderr(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text(CSV + ",open,2025-01-08T00:00:00Z,\n", encoding="utf-8")
    code, out, err = invoke(runner, "lifecycle", str(path), "-f", "json")
    assert code == 0
    assert json.loads(out)["kind"] == "lifecycle"
    assert err.startswith("Warning: dropped 1 row(s)")


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (
            ["retention", "--period", "fortnight"],
            "--period: expected one of day, week, month, quarter",
        ),
        (
            ["retention", "--periods", "0"],
            "--periods: expected a whole number from 1 to 400, got 0",
        ),
        (["retention", "--cohort", "first"], "--cohort: expected one of recurring, first-time"),
        (["retention", "--week-start", "tuesday"], "--week-start: expected one of monday, sunday"),
        (["retention", "--by", "chanel"], "--by: no column 'chanel'"),
        (["retention", "--start-event", "signup[plan=pro]"], "--start-event: no column 'plan'"),
        (["retention", "--return-event", "open[plan"], "--return-event: can't read step"),
        (["retention", "--since", "soon"], "--since: can't read 'soon'"),
        (["retention", "--tz", "Mars/Olympus"], "--tz: unknown time zone"),
        (["retention", "-f", "xml"], "--format: expected one of"),
        (["lifecycle", "--period", "quarter"], "--period: expected one of day, week, month"),
        (
            ["lifecycle", "--new-basis", "first"],
            "--new-basis: expected one of event, first-any-event",
        ),
        (["stickiness", "--event", "open[x>]"], "--event: no column 'x'"),
        (["stickiness", "--week-start", "sat"], "--week-start"),
    ],
)
def test_bad_flags_are_one_line_exit_2(
    args: list[str], expect: str, data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    command, *flags = args
    assert main([command, str(data), *flags]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("Error: ")
    assert expect in captured.err


def test_typer_usage_errors_are_one_line(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["retention", str(data), "--periods", "many"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "--periods" in err


def test_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["retention", str(tmp_path / "nope.csv")]) == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_no_matching_event_warns(runner: CliRunner, data: Path) -> None:
    code, out, err = invoke(runner, "retention", str(data), "--start-event", "nope", "-f", "json")
    assert code == 0
    assert json.loads(out)["cohorts"] == []
    assert err == "Warning: start event 'nope' never occurs in the data; did you mean 'open'?\n"
    code, out, err = invoke(runner, "lifecycle", str(data), "--event", "nope", "-f", "json")
    assert code == 0
    assert err == "Warning: activity event 'nope' never occurs in the data; did you mean 'open'?\n"
