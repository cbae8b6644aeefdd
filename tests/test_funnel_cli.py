"""``cjkit funnel`` from the shell: the table, the JSON contract, ``--units``, and bad input.

Output goes to stdout; every bad input ends in exit 2 with ONE ``Error: …`` line on stderr and
no traceback. Usage errors that typer raises itself (an unknown option) go through
``cjkit.cli.main``, which turns them into that one line.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from cjkit.cli import app, main
from cjkit.engine.stats import wilson

HEADER = "user_id,event,timestamp,channel\n"
ROWS = [
    "1,visit,2025-01-01T10:00:00Z,ads",
    "1,signup,2025-01-01T10:10:00Z,ads",
    "1,purchase,2025-01-01T11:00:00Z,ads",
    "2,visit,2025-01-01T10:00:00Z,seo",
    "2,signup,2025-01-01T10:30:00Z,seo",
    "3,visit,2025-01-02T09:00:00Z,ads",
    "4,visit,2025-01-03T09:00:00Z,seo",
    "4,purchase,2025-01-03T09:05:00Z,seo",
]
STEPS = ["-s", "visit", "-s", "signup", "-s", "purchase"]


@pytest.fixture
def events(tmp_path: Path) -> Path:
    path = tmp_path / "events.csv"
    path.write_text(HEADER + "\n".join(ROWS) + "\n", encoding="utf-8")
    return path


def _json(runner: CliRunner, *args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["funnel", *args, "-f", "json"])
    assert result.exit_code == 0, result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


# --- output -----------------------------------------------------------------------------------


def test_table(runner: CliRunner, events: Path) -> None:
    result = runner.invoke(app, ["funnel", str(events), *STEPS, "-w", "7d"])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "Funnel (ordered, window 7d)" in out
    for header in ("step", "count", "of start", "of prev", "drop-off", "median time"):
        assert header in out
    lines = {line.split()[1]: line for line in out.splitlines() if line.strip()[:1].isdigit()}
    assert lines["visit"].split()[2:4] == ["4", "100.0%"]
    assert lines["signup"].split()[2:6] == ["2", "50.0%", "50.0%", "2"]
    assert lines["purchase"].split()[2:7] == ["1", "25.0%", "50.0%", "1", "50m"]
    assert "█" in lines["visit"]
    assert result.stderr == ""


def test_json_contract(runner: CliRunner, events: Path) -> None:
    doc = _json(runner, str(events), *STEPS)
    assert doc["schema_version"] == 1
    assert doc["kind"] == "funnel"
    settings = doc["settings"]
    assert settings["order"] == "ordered"
    assert settings["window_seconds"] == 14 * 86400
    assert settings["window_anchor"] == "latest"
    assert settings["allow_event_reuse"] is False
    assert settings["strict_increase"] is False
    assert doc["breakdown"] is None
    steps = doc["steps"]
    assert [s["index"] for s in steps] == [1, 2, 3]
    assert [s["name"] for s in steps] == ["visit", "signup", "purchase"]
    assert [s["events"] for s in steps] == [["visit"], ["signup"], ["purchase"]]
    assert [s["count"] for s in steps] == [4, 2, 1]
    assert [s["drop_off"] for s in steps] == [0, 2, 1]
    assert steps[0]["time_to_convert"] is None
    assert steps[1]["time_to_convert"] == {"mean_s": 1200.0, "median_s": 1200.0, "p90_s": 1680.0}
    assert steps[2]["time_to_convert"] == {"mean_s": 3000.0, "median_s": 3000.0, "p90_s": 3000.0}
    purchase = steps[2]
    assert purchase["conversion_from_previous"] == 0.5
    assert purchase["conversion_from_start"] == 0.25
    for key, (k, n) in {
        "conversion_from_previous": (1, 2),
        "conversion_from_start": (1, 4),
    }.items():
        low, high = wilson(k, n)  # type: ignore[misc]
        assert purchase["ci"][key] == {"low": pytest.approx(low), "high": pytest.approx(high)}
    # 95% Wilson interval of 1/4, by the formula: centre ± half-width.
    z = 1.959963984540054
    centre = (0.25 + z * z / 8) / (1 + z * z / 4)
    half = z * math.sqrt(0.25 * 0.75 / 4 + z * z / 64) / (1 + z * z / 4)
    assert purchase["ci"]["conversion_from_start"]["low"] == pytest.approx(centre - half)
    assert purchase["ci"]["conversion_from_start"]["high"] == pytest.approx(centre + half)


def test_json_breakdown(runner: CliRunner, events: Path) -> None:
    doc = _json(runner, str(events), *STEPS, "--by", "channel")
    assert doc["breakdown"]["by"] == ["channel"]
    groups = {g["value"]: [s["count"] for s in g["steps"]] for g in doc["breakdown"]["groups"]}
    assert groups == {"ads": [2, 1, 1], "seo": [2, 1, 0]}
    assert [g["value"] for g in doc["breakdown"]["groups"]] == ["ads", "seo"]


def test_every_flag_reaches_the_settings(runner: CliRunner, events: Path) -> None:
    doc = _json(
        runner,
        str(events),
        *STEPS,
        "--window",
        "2h",
        "--order",
        "strict",
        "--window-anchor",
        "first",
        "--strict-increase",
        "--exclude",
        "refund:1-2",
        "--since",
        "2025-01-01",
        "--until",
        "2025-01-02",
        "--by",
        "channel",
        "--attribution",
        "step:2",
        "--tz",
        "UTC",
    )
    s = doc["settings"]
    assert (s["order"], s["window_seconds"], s["window_anchor"]) == ("strict", 7200, "first")
    assert (s["allow_event_reuse"], s["strict_increase"]) == (False, True)
    assert s["exclusions"] == [{"event": "refund:1-2", "from_step": 1, "to_step": 2}]
    assert s["since"].startswith("2025-01-01T00:00:00")
    assert s["until"].startswith("2025-01-02T23:59:59")
    assert s["attribution"] == "step:2"
    assert [st["count"] for st in doc["steps"]] == [3, 2, 1]


def test_aggregate_by_counts_sessions(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "sessions.csv"
    path.write_text(
        "user_id,event,timestamp,session_id\n"
        "1,signup,2025-01-01T00:00:00Z,s1\n"
        "1,cart,2025-01-01T00:01:00Z,s1\n"
        "1,signup,2025-01-01T01:00:00Z,s2\n"
        "2,signup,2025-01-01T00:00:00Z,s3\n",
        encoding="utf-8",
    )
    doc = _json(runner, str(path), "-s", "signup", "-s", "cart", "--aggregate-by", "session_id")
    assert [s["count"] for s in doc["steps"]] == [3, 1]
    assert doc["settings"]["unit"] == "session_id"


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_units_file(runner: CliRunner, events: Path, tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"units{suffix}"
    result = runner.invoke(
        app, ["funnel", str(events), *STEPS, "--by", "channel", "--units", str(out), "-f", "json"]
    )
    assert result.exit_code == 0, result.stderr
    units = pl.read_csv(out) if suffix == ".csv" else pl.read_parquet(out)
    assert units.columns == [
        "user_id",
        "furthest_step",
        "furthest_step_name",
        "excluded",
        "1_visit_at",
        "2_signup_at",
        "3_purchase_at",
        "channel",
    ]
    assert [str(u) for u in units["user_id"].to_list()] == [
        "1",
        "2",
        "3",
        "4",
    ]  # ids are read as text in every format
    assert units["furthest_step"].to_list() == [3, 2, 1, 1]
    assert units["furthest_step_name"].to_list() == ["purchase", "signup", "visit", "visit"]
    assert units["channel"].to_list() == ["ads", "seo", "ads", "seo"]
    assert units["2_signup_at"].null_count() == 2
    first = units.row(0, named=True)
    assert str(first["3_purchase_at"]).startswith("2025-01-01")


def test_units_file_for_retargeting_drop_offs(
    runner: CliRunner, events: Path, tmp_path: Path
) -> None:
    out = tmp_path / "units.csv"
    result = runner.invoke(app, ["funnel", str(events), *STEPS, "--units", str(out)])
    assert result.exit_code == 0, result.stderr
    dropped = pl.read_csv(out).filter(pl.col("furthest_step") == 1)["user_id"].to_list()
    assert dropped == [3, 4]


def test_model_supplies_steps_and_settings(runner: CliRunner, events: Path, tmp_path: Path) -> None:
    path = tmp_path / "map.yaml"
    path.write_text(
        "id: shop\nname: Shop\n"
        "settings: {window: 30m, order: ordered}\n"
        "stages:\n"
        "  - {id: visit, name: Visit, events: [visit]}\n"
        "  - {id: signup, name: Signup, events: [signup]}\n",
        encoding="utf-8",
    )
    doc = _json(runner, str(events), "--model", str(path))
    assert doc["settings"]["window_seconds"] == 1800
    assert [s["name"] for s in doc["steps"]] == ["Visit", "Signup"]
    assert [s["count"] for s in doc["steps"]] == [4, 2]
    doc = _json(runner, str(events), "--model", str(path), "--window", "10m")
    assert [s["count"] for s in doc["steps"]] == [4, 1]


def test_columns_but_no_matching_events_give_zero_counts(runner: CliRunner, events: Path) -> None:
    doc = _json(runner, str(events), "-s", "nothing", "-s", "else")
    assert [s["count"] for s in doc["steps"]] == [0, 0]
    assert doc["steps"][1]["conversion_from_previous"] is None


# --- bad input: exit 2, one line on stderr, no traceback --------------------------------------


def _one_line_error(stderr: str, *words: str) -> None:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("Error: "), stderr
    assert "Traceback" not in stderr
    for word in words:
        assert word in lines[0], (word, lines[0])


def _write(path: Path, text: str | bytes) -> str:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


BAD: list[tuple[str, Any, list[str], list[str]]] = [
    # (id, make files → first argument, extra flags, words the error line must contain)
    ("missing file", lambda d: str(d / "nope.csv"), [], ["nope.csv", "no such file"]),
    ("glob matches nothing", lambda d: str(d / "*.parquet"), [], ["matches no event files"]),
    (
        "corrupt parquet",
        lambda d: _write(d / "bad.parquet", b"PAR1 this is not parquet at all"),
        [],
        ["bad.parquet", "can't read"],
    ),
    (
        "corrupt gzip",
        lambda d: _write(d / "bad.csv.gz", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03garbage"),
        [],
        ["bad.csv.gz", "can't read the file"],
    ),
    (
        "truncated ndjson",
        lambda d: _write(
            d / "bad.ndjson",
            '{"user_id": 1, "event": "a", "timestamp": "2025-01-01T00:00:00Z"}\n{"user_id": 2, "event": \n',
        ),
        [],
        ["bad.ndjson", "can't read the file"],
    ),
    (
        "missing column",
        lambda d: _write(d / "e.csv", "uid,event,timestamp\n1,a,2025-01-01T00:00:00Z\n"),
        [],
        ["no user column 'user_id'", "columns: uid, event, timestamp"],
    ),
    (
        "missing breakdown column",
        lambda d: _write(d / "e.csv", HEADER + ROWS[0] + "\n"),
        ["--by", "country"],
        ["no column 'country'", "columns: user_id, event, timestamp, channel"],
    ),
    (
        "unparseable timestamp",
        lambda d: _write(
            d / "e.csv",
            "user_id,event,timestamp\n1,a,2025-01-01T00:00:00Z\n2,b,2025-13-45T99:00:00Z\n",
        ),
        [],
        ["e.csv: row 2", "'2025-13-45T99:00:00Z'"],
    ),
    (
        "time that is no time",
        lambda d: _write(d / "e.csv", "user_id,event,timestamp\n1,a,yesterday\n"),
        [],
        ["'yesterday'", "timestamp"],
    ),
    ("empty file", lambda d: _write(d / "e.csv", ""), [], ["e.csv", "empty"]),
    (
        "header only",
        lambda d: _write(d / "e.csv", "user_id,event,timestamp\n"),
        [],
        ["e.csv", "no events"],
    ),
    (
        "unknown order",
        None,
        ["--order", "sideways"],
        ["--order", "ordered, strict, any", "'sideways'"],
    ),
    ("unknown anchor", None, ["--window-anchor", "middle"], ["--window-anchor", "'middle'"]),
    ("unknown attribution", None, ["--attribution", "step:9"], ["--attribution", "step:N"]),
    ("unknown format", None, ["-f", "xml"], ["xml"]),
    ("unknown time zone", None, ["--tz", "Mars/Olympus"], ["--tz", "Mars/Olympus"]),
    ("bad since", None, ["--since", "someday"], ["--since", "'someday'"]),
    ("until before since", None, ["--since", "2025-02-01", "--until", "2025-01-01"], ["--until"]),
    ("bad exclusion range", None, ["--exclude", "x:3-2"], ["--exclude", "1 ≤ A < B ≤ 3"]),
    ("zero window", None, ["--window", "0s"], ["--window", "at least 1s"]),
    ("negative window", None, ["--window=-1d"], ["--window", "duration"]),
    ("window without unit", None, ["--window", "14"], ["--window", "duration"]),
    (
        "reuse with strict order",
        None,
        ["--order", "strict", "--allow-event-reuse"],
        ["--allow-event-reuse"],
    ),
    (
        "anchor first with any order",
        None,
        ["--order", "any", "--window-anchor", "first"],
        ["--window-anchor"],
    ),
]


@pytest.mark.parametrize(("name", "make", "flags", "words"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_one_line_exit_2(
    runner: CliRunner,
    events: Path,
    tmp_path: Path,
    name: str,
    make: Any,
    flags: list[str],
    words: list[str],
) -> None:
    del name
    target = make(tmp_path) if make else str(events)
    result = runner.invoke(app, ["funnel", target, *STEPS, *flags])
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    _one_line_error(result.stderr, *words)


@pytest.mark.parametrize(
    ("steps", "words"),
    [([], ["--step", "--model"]), (["-s", "visit"], ["at least two steps", "got 1"])],
    ids=["no steps", "one step"],
)
def test_fewer_than_two_steps(
    runner: CliRunner, events: Path, steps: list[str], words: list[str]
) -> None:
    result = runner.invoke(app, ["funnel", str(events), *steps])
    assert result.exit_code == 2
    _one_line_error(result.stderr, *words)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--bogus"], ["No such option: --bogus"]),
        (["--window"], ["--window", "requires an argument"]),
        (["--allow-event-reuse=yes"], ["--allow-event-reuse"]),
    ],
    ids=["unknown option", "missing value", "flag with a value"],
)
def test_typer_usage_errors_are_one_line(
    events: Path, capsys: pytest.CaptureFixture[str], args: list[str], words: list[str]
) -> None:
    assert main(["funnel", str(events), *STEPS, *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    _one_line_error(captured.err, *words)


def test_debug_does_not_turn_user_errors_into_tracebacks(
    events: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--debug", "funnel", str(events), *STEPS, "--order", "sideways"]) == 2
    _one_line_error(capsys.readouterr().err, "--order")
