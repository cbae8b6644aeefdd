"""``--strict`` (an unknown step or stage event is an error), ``--max-dropped`` (too many rows
without a unit or a time is an error), and the line under a stage whose funnel count and own
metric count different things (issue 12, items 2 and 6).

Every expectation is written by hand: the exit code, the exact stderr line, and that stdout
holds the data only (parseable JSON, or nothing when the run fails).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cjkit.cli import app, main
from cjkit.cli.defaults import commands, default_map
from cjkit.cli.settings import Setting

ROWS = [
    ("u1", "visit", "2025-01-01T00:00:00Z"),
    ("u1", "onboarding_complete", "2025-01-01T00:05:00Z"),
    ("u1", "invite_sent", "2025-01-02T00:00:00Z"),
    ("u1", "purchse", "2025-01-03T00:00:00Z"),
    ("u2", "visit", "2025-01-02T00:00:00Z"),
    ("u2", "signup", "2025-01-02T00:01:00Z"),
    ("u3", "visit", "2025-01-04T00:00:00Z"),
]
CDNOW = "examples/cdnow/events.parquet"
CDNOW_MAP = "examples/cdnow/map.yaml"


def _csv(folder: Path, rows: list[tuple[str, str, str]], name: str = "events.csv") -> str:
    path = folder / name
    # An amount column, so the built-in models' revenue stage can read its amounts.
    lines = ["user_id,event,timestamp,amount", *(",".join(r) + ",10" for r in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, list[str]]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, [line for line in err.splitlines() if line]


@pytest.fixture(autouse=True)
def _no_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no config file is found above a fresh folder
    monkeypatch.delenv("CJKIT_MAX_DROPPED", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")


# --- --strict ---------------------------------------------------------------------------------

FUNNEL_WARNING = "Warning: step event 'signpu' never occurs in the data; did you mean 'signup'?"
FUNNEL_ERROR = "Error: step event 'signpu' never occurs in the data; did you mean 'signup'?"


def test_funnel_warns_without_strict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    events = _csv(tmp_path, ROWS)
    code, out, err = _run(["funnel", events, "-s", "visit", "-s", "signpu", "-f", "json"], capsys)
    assert code == 0
    assert err == [FUNNEL_WARNING]
    assert [s["count"] for s in json.loads(out)["steps"]] == [3, 0]


def test_funnel_strict_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = _csv(tmp_path, ROWS)
    args = ["funnel", events, "-s", "visit", "-s", "signpu", "-f", "json", "--strict"]
    code, out, err = _run(args, capsys)
    assert (code, out, err) == (2, "", [FUNNEL_ERROR])


def test_funnel_strict_names_the_step_of_an_alternative(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = _csv(tmp_path, ROWS)
    args = ["funnel", events, "-s", "visit", "-s", "signpu|sigup", "--strict"]
    code, out, err = _run(args, capsys)
    assert (code, out) == (2, "")
    assert err == [
        "Error: step event 'signpu' (of step 'signpu|sigup') never occurs in the data; "
        "did you mean 'signup'? (and 1 more)"
    ]


def test_funnel_strict_passes_when_every_event_occurs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = _csv(tmp_path, ROWS)
    code, out, err = _run(["funnel", events, "-s", "visit", "-s", "signup", "--strict"], capsys)
    assert (code, err) == (0, [])
    assert "signup" in out


METRICS_LINE = (
    "stage event 'purchase' (of stage 'Revenue') never occurs in the data; did you mean 'purchse'?"
)


def test_metrics_warns_for_a_stage_event_that_never_occurs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = _csv(tmp_path, ROWS)
    code, out, err = _run(["metrics", events, "-m", "aarrr", "-f", "json"], capsys)
    assert code == 0
    assert f"Warning: {METRICS_LINE}" in err
    assert json.loads(out)["kind"] == "metrics"


def test_metrics_warns_for_a_misspelt_alternative_of_a_reached_stage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The stage is reached through its other event, so its count is not 0: still a warning.
    model = tmp_path / "map.yaml"
    model.write_text(
        "id: two\nname: Two\nstages:\n"
        "  - {id: a, name: Arrive, kind: acquisition, events: [visit]}\n"
        "  - {id: b, name: Buy, events: [signup, purchasse]}\n",
        encoding="utf-8",
    )
    events = _csv(tmp_path, [*ROWS, ("u3", "purchase", "2025-01-04T01:00:00Z")])
    code, _, err = _run(["metrics", events, "-m", str(model), "-f", "json"], capsys)
    assert code == 0, err
    assert err == [
        "Warning: stage event 'purchasse' (of stage 'Buy') never occurs in the data; "
        "did you mean 'purchase'?"
    ]
    code, out, err = _run(["metrics", events, "-m", str(model), "--strict"], capsys)
    assert (code, out) == (2, "")
    assert err == [
        "Error: stage event 'purchasse' (of stage 'Buy') never occurs in the data; "
        "did you mean 'purchase'?"
    ]


@pytest.mark.parametrize(
    "args",
    [
        ["metrics", "{events}", "-m", "aarrr"],
        ["diagnose", "{events}", "-m", "aarrr"],
        ["report", "{events}", "-m", "aarrr", "-o", "{folder}/r.html"],
    ],
    ids=["metrics", "diagnose", "report"],
)
def test_model_commands_fail_under_strict(
    args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = _csv(tmp_path, ROWS)
    argv = [a.format(events=events, folder=tmp_path) for a in args]
    code, out, err = _run([*argv, "--strict"], capsys)
    assert (code, out) == (2, "")
    assert err == [f"Error: {METRICS_LINE}"]
    assert not (tmp_path / "r.html").exists()


def test_diagnose_warns_without_strict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    events = _csv(tmp_path, ROWS)
    code, out, err = _run(["diagnose", events, "-m", "aarrr", "-f", "json"], capsys)
    assert code == 0
    assert json.loads(out)["kind"] == "diagnose"
    assert any(METRICS_LINE in line for line in err)


def test_paths_strict_makes_an_unknown_include_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = _csv(tmp_path, ROWS)
    args = ["paths", events, "--include", "visit", "--include", "sigup", "-f", "json"]
    code, out, err = _run(args, capsys)
    assert code == 0
    assert err == ["Warning: --include sigup: no such event in the data; did you mean 'signup'?"]
    assert json.loads(out)["kind"] == "paths"
    code, out, err = _run([*args, "--strict"], capsys)
    assert (code, out) == (2, "")
    assert err == ["Error: --include sigup: no such event in the data; did you mean 'signup'?"]


def test_strict_in_a_config_file_reaches_the_analyses_not_check() -> None:
    group = __import__("typer").main.get_command(app)
    top = default_map(group, [Setting("strict", True, "cjkit.toml")])
    assert top["funnel"]["strict"] is True
    assert top["metrics"]["strict"] is True
    assert "check" not in top  # check --strict fails on warn targets: another meaning
    own = default_map(group, [Setting("strict", True, "cjkit.toml", "check")])
    assert own == {"check": {"strict": True}}


def test_strict_from_a_config_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    events = _csv(tmp_path, ROWS)
    (tmp_path / "cjkit.toml").write_text("strict = true\n", encoding="utf-8")
    code, out, err = _run(["funnel", events, "-s", "visit", "-s", "signpu"], capsys)
    assert (code, out, err) == (2, "", [FUNNEL_ERROR])


def test_check_strict_keeps_its_meaning(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "-h"]) == 0
    check_help = " ".join(capsys.readouterr().out.split())
    assert "--strict Fail (exit 1) on warn targets too." in check_help
    assert main(["funnel", "-h"]) == 0
    funnel_help = " ".join(capsys.readouterr().out.split())
    assert "--strict Fail (exit 2) when a step or stage event never occurs in the data" in (
        funnel_help
    )


# --- --max-dropped ------------------------------------------------------------------------------

HOLES = [*ROWS[:3], ("", "visit", "2025-01-05T00:00:00Z")]  # 1 of 4 rows has no unit
DROPPED = "dropped 1 row(s) with no unit or no time (1 without a unit, 0 without a time)"


def test_max_dropped_over_the_share_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = _csv(tmp_path, HOLES)
    for share, shown in (("1%", "1%"), ("0.01", "1%"), ("0.5%", "0.5%")):
        args = [
            "funnel",
            events,
            "-s",
            "visit",
            "-f",
            "json",
            "-s",
            "invite_sent",
            "--max-dropped",
            share,
        ]
        code, out, err = _run(args, capsys)
        assert (code, out) == (2, "")
        assert err == [
            f"Error: {DROPPED}: 25.0% of the rows, more than --max-dropped allows ({shown})"
        ]


def test_max_dropped_under_the_share_warns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = _csv(tmp_path, HOLES)
    args = [
        "funnel",
        events,
        "-s",
        "visit",
        "-s",
        "invite_sent",
        "-f",
        "json",
        "--max-dropped",
        "30%",
    ]
    code, out, err = _run(args, capsys)
    assert code == 0
    assert json.loads(out)["steps"][0]["count"] == 1
    assert err == [
        f"Warning: {DROPPED}; that is 25.0% of the rows: check the unit and time columns"
    ]


@pytest.mark.parametrize("value", ["5x", "-1", "200%", "%"])
def test_a_bad_max_dropped_is_one_line(
    value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = _csv(tmp_path, HOLES)
    code, out, err = _run(["inspect", events, f"--max-dropped={value}"], capsys)
    assert (code, out) == (2, "")
    assert err == [f"Error: --max-dropped: expected a share such as 1% or 0.01, got {value!r}"]


def test_the_flag_outranks_the_variable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    events = _csv(tmp_path, HOLES)
    monkeypatch.setenv("CJKIT_MAX_DROPPED", "1%")
    code, _, err = _run(["retention", events, "--max-dropped", "50%"], capsys)
    assert code == 0, err
    monkeypatch.setenv("CJKIT_MAX_DROPPED", "50%")
    code, _, err = _run(["retention", events, "--max-dropped", "10%"], capsys)
    assert code == 2
    assert err == [f"Error: {DROPPED}: 25.0% of the rows, more than --max-dropped allows (10%)"]


def test_max_dropped_in_a_config_file_ranks_below_the_variable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    events = _csv(tmp_path, HOLES)
    (tmp_path / "cjkit.toml").write_text('max-dropped = "10%"\n', encoding="utf-8")
    code, _, err = _run(["stickiness", events], capsys)
    assert code == 2
    assert err == [
        f"Error: {DROPPED}: 25.0% of the rows, more than max-dropped (config) allows (10%)"
    ]
    monkeypatch.setenv("CJKIT_MAX_DROPPED", "50%")
    code, _, err = _run(["stickiness", events], capsys)
    assert code == 0, err


def test_a_bad_max_dropped_in_a_config_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = _csv(tmp_path, HOLES)
    (tmp_path / "cjkit.toml").write_text('max-dropped = "lots"\n', encoding="utf-8")
    code, out, err = _run(["lifecycle", events], capsys)
    assert (code, out) == (2, "")
    assert err == ["Error: max-dropped (config): expected a share such as 1% or 0.01, got 'lots'"]


def test_every_command_that_reads_events_takes_max_dropped() -> None:
    group = __import__("typer").main.get_command(app)
    readers = []
    for path, command in commands(group):
        names = {p.name for p in command.params}
        if "events" in names or "data" in names:
            readers.append(" ".join(path))
            assert "max_dropped" in names, path
    assert {"funnel", "metrics", "check", "inspect", "clv", "paths", "validate"} <= set(readers)


def test_max_dropped_through_the_library(tmp_path: Path) -> None:
    from cjkit import api
    from cjkit.errors import InputError

    events = _csv(tmp_path, HOLES)
    read = api.ReadOptions(max_dropped=0.01)
    with pytest.raises(InputError, match=r"more than max_dropped allows \(1%\)"):
        api.funnel([events], api.FunnelOptions(steps=("visit", "invite_sent"), read=read))


# --- the funnel count against the stage's own count (item 6) --------------------------------------

PAYING = "Funnel 11,516: reached in the funnel within 540d; paying units 23,502: paid at all in the range."
RETURNS = (
    "Funnel 11,516: reached in the funnel within 540d; retention counts 31,236 unit-periods "
    "(a unit once per active month)."
)


@pytest.fixture(scope="module")
def cdnow_outputs() -> dict[str, str]:
    import os

    from typer.testing import CliRunner

    root = Path(__file__).resolve().parents[1]
    runner = CliRunner()
    out = {}
    cwd = Path.cwd()
    os.chdir(root)
    try:
        for name, extra in (
            ("table", []),
            ("markdown", ["-f", "markdown"]),
            ("explain", ["--explain"]),
        ):
            result = runner.invoke(
                app,
                ["--isolated", "metrics", CDNOW, "-m", CDNOW_MAP, *extra],
                env={"NO_COLOR": "1", "COLUMNS": "300"},
            )
            assert result.exit_code == 0, result.stderr
            out[name] = result.stdout
    finally:
        os.chdir(cwd)
    return out


def test_table_says_what_each_count_means(cdnow_outputs: dict[str, str]) -> None:
    lines = [line.strip() for line in cdnow_outputs["table"].splitlines()]
    assert PAYING in lines
    assert RETURNS in lines
    # One line per stage whose counts differ, and none for the first stage (they agree).
    assert (
        sum(line.startswith("Funnel ") and "reached in the funnel" in line for line in lines) == 2
    )


def test_markdown_says_what_each_count_means(cdnow_outputs: dict[str, str]) -> None:
    lines = cdnow_outputs["markdown"].splitlines()
    assert f"_{PAYING}_" in lines
    assert f"_{RETURNS}_" in lines


def test_explain_names_both_numbers(cdnow_outputs: dict[str, str]) -> None:
    text = " ".join(cdnow_outputs["explain"].split())
    assert (
        "The funnel count (11,516) counts units that did first_purchase or repeat_purchase" in text
        or "The funnel count (11,516) counts units that did" in text
    )
    assert "Paying units (23,502) counts every unit of the population with a purchase" in text
    assert "the 31,236 unit-periods at the start of a period exceed the stage's units" in text
    assert PAYING not in text  # --explain replaces the short line with the sentences


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["retention", "--start-event", "vist"], "start event 'vist'"),
        (["retention", "--return-event", "signpu"], "return event 'signpu'"),
        (["lifecycle", "--event", "vist"], "activity event 'vist'"),
        (["stickiness", "--event", "vist"], "activity event 'vist'"),
    ],
    ids=["retention-start", "retention-return", "lifecycle", "stickiness"],
)
def test_cohort_commands_warn_and_fail_under_strict(
    args: list[str], line: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = _csv(tmp_path, ROWS)
    hint = "'signup'" if "signpu" in line else "'visit'"
    message = f"{line} never occurs in the data; did you mean {hint}?"
    code, out, err = _run([args[0], events, *args[1:], "-f", "json"], capsys)
    assert code == 0
    assert err == [f"Warning: {message}"]
    assert json.loads(out)["kind"] == args[0]
    code, out, err = _run([args[0], events, *args[1:], "-f", "json", "--strict"], capsys)
    assert (code, out, err) == (2, "", [f"Error: {message}"])
