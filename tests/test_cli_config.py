"""Config discovery and CJKIT_* variables: files found upward, precedence, one-line errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cjkit.cli import main
from cjkit.cli.settings import discover, from_environment, resolve

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = ["funnel", "metrics", "validate", "retention", "init"]
EVENTS = (
    "user_id,event,timestamp,amount\n"
    "u1,visit,2025-01-01T00:00:00,\nu1,signup,2025-01-02T00:00:00,\nu1,purchase,2025-01-03T00:00:00,9.5\n"
)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Return a project folder with events and a subfolder as the working folder."""
    for name in [n for n in os.environ if n.startswith("CJKIT_")]:
        monkeypatch.delenv(name)
    (tmp_path / "events.csv").write_text(EVENTS, encoding="utf-8")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    return tmp_path


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("cjkit.toml", 'format = "json"\n'),
        (".cjkit.yaml", "format: json\n"),
        ("pyproject.toml", '[project]\nname = "x"\n\n[tool.cjkit]\nformat = "json"\n'),
    ],
)
def test_each_file_kind_is_found_upward(project: Path, name: str, text: str) -> None:
    (project / name).write_text(text, encoding="utf-8")
    found = discover(project / "sub")
    assert found == project / name
    [setting] = resolve(config=None, isolated=False, commands=COMMANDS, cwd=project / "sub", environ={})
    assert (setting.key, setting.value, setting.source) == ("format", "json", str(project / name))


def test_pyproject_without_the_table_is_skipped(project: Path) -> None:
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n', encoding="utf-8")
    assert discover(project / "sub") in (None, *[p / "pyproject.toml" for p in project.parents])
    assert discover(project / "sub") != project / "pyproject.toml"


def test_config_makes_model_optional(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "cjkit.toml").write_text('model = "aarrr"\nformat = "json"\n', encoding="utf-8")
    code, out, err = _run(capsys, "metrics", str(project / "events.csv"), "-q")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["kind"] == "metrics"
    assert doc["model"]["id"] == "aarrr"


def test_relative_model_path_is_relative_to_the_file(project: Path) -> None:
    (project / "journey.yaml").write_text("extends: aarrr\n", encoding="utf-8")
    (project / "cjkit.toml").write_text('model = "journey.yaml"\n', encoding="utf-8")
    [setting] = resolve(config=None, isolated=False, commands=COMMANDS, cwd=project / "sub", environ={})
    assert setting.value == str(project / "journey.yaml")


def test_precedence_flag_over_variable_over_file(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "cjkit.toml").write_text('format = "json"\n', encoding="utf-8")
    events = str(project / "events.csv")
    _, out, _ = _run(capsys, "inspect", events)
    assert out.lstrip().startswith("{")
    monkeypatch.setenv("CJKIT_FORMAT", "csv")
    _, out, _ = _run(capsys, "inspect", events)
    assert out.startswith("section,") or "," in out.splitlines()[0]
    _, out, _ = _run(capsys, "inspect", events, "--format", "jsonl")
    assert all(json.loads(line) for line in out.splitlines())


def test_command_table_outranks_top_level(project: Path) -> None:
    (project / "cjkit.toml").write_text(
        'window = "14d"\n\n[funnel]\nwindow = "7d"\n', encoding="utf-8"
    )
    settings = resolve(config=None, isolated=False, commands=COMMANDS, cwd=project, environ={})
    assert [(s.key, s.value, s.command) for s in settings] == [
        ("window", "14d", None),
        ("window", "7d", "funnel"),
    ]


def test_funnel_takes_its_window_from_the_file(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "cjkit.toml").write_text('[funnel]\nwindow = "3d"\nformat = "json"\n', encoding="utf-8")
    code, out, err = _run(capsys, "funnel", str(project / "events.csv"), "-s", "visit", "-s", "signup")
    assert code == 0, err
    assert json.loads(out)["settings"]["window_seconds"] == 3 * 86400


def test_isolated_ignores_files_and_variables(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "cjkit.toml").write_text('format = "json"\n', encoding="utf-8")
    monkeypatch.setenv("CJKIT_FORMAT", "csv")
    _, out, _ = _run(capsys, "--isolated", "inspect", str(project / "events.csv"))
    assert not out.lstrip().startswith("{")
    assert "," not in out.splitlines()[0]


def test_explicit_config_file(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = project / "elsewhere.toml"
    other.write_text('format = "json"\n', encoding="utf-8")
    code, out, _ = _run(capsys, "--config", str(other), "inspect", str(project / "events.csv"))
    assert code == 0
    assert json.loads(out)["kind"] == "inspect"
    code, _, err = _run(capsys, "--config", str(project / "missing.toml"), "inspect", "x")
    assert code == 2
    assert err == f"Error: --config: no such file: {project / 'missing.toml'}\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('wndow = "7d"\n', "unknown setting 'wndow' (did you mean 'window'?)"),
        ('format = "xml"\n', "format: expected one of"),
        ("format = 3\n", "format: expected one of"),
        ('tz = "Mars/Olympus"\n', "tz: unknown time zone 'Mars/Olympus'"),
        ('by = {"a" = 1}\n', "by: expected a string or a list of strings"),
        ("format = \n", "not valid TOML"),
    ],
)
def test_bad_file_is_one_line_exit_2(
    project: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    (project / "cjkit.toml").write_text(text, encoding="utf-8")
    code, out, err = _run(capsys, "inspect", str(project / "events.csv"))
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"Error: {project / 'cjkit.toml'}")
    assert message in err


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CJKIT_FORMAT", "xml", "$CJKIT_FORMAT: format: expected one of"),
        ("CJKIT_TZ", "Nowhere/City", "$CJKIT_TZ: tz: unknown time zone"),
    ],
)
def test_bad_variable_is_one_line_exit_2(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    value: str,
    message: str,
) -> None:
    monkeypatch.setenv(name, value)
    code, out, err = _run(capsys, "inspect", str(project / "events.csv"))
    assert (code, out, err.count("\n")) == (2, "", 1)
    assert err.startswith(f"Error: {message}")


def test_format_valid_for_some_commands_applies_where_valid(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CJKIT_FORMAT", "csv")  # validate has no csv: it keeps its table
    code, out, _ = _run(capsys, "validate", "aarrr")
    assert code == 0
    assert "aarrr" in out
    assert not out.startswith("file,")


def test_column_variables(project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "events.csv").write_text(EVENTS.replace("user_id,event,", "uid,name,"), encoding="utf-8")
    monkeypatch.setenv("CJKIT_USER_COL", "uid")
    monkeypatch.setenv("CJKIT_EVENT_COL", "name")
    code, out, err = _run(capsys, "inspect", str(project / "events.csv"), "-f", "json")
    assert code == 0, err
    assert json.loads(out)["units"] == 1


def test_every_variable_names_a_flag() -> None:
    from cjkit.cli.settings import VARIABLES

    env = dict.fromkeys(VARIABLES, "x")
    assert {s.key for s in from_environment(env)} == set(VARIABLES.values())
    docs = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    for name in VARIABLES:
        assert name in docs, f"docs/configuration.md does not document {name}"


def test_config_show(project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "cjkit.toml").write_text('model = "aarrr"\n[funnel]\nwindow = "7d"\n', encoding="utf-8")
    monkeypatch.setenv("CJKIT_TZ", "Europe/Berlin")
    code, out, _ = _run(capsys, "config", "show", "--format", "json")
    assert code == 0
    rows = json.loads(out)["settings"]
    assert rows == [
        {"key": "model", "value": "aarrr", "command": None, "source": str(project / "cjkit.toml")},
        {"key": "window", "value": "7d", "command": "funnel", "source": str(project / "cjkit.toml")},
        {"key": "tz", "value": "Europe/Berlin", "command": None, "source": "$CJKIT_TZ"},
    ]
    code, out, _ = _run(capsys, "config", "show")
    assert "window  '7d'  [funnel]" in out
    assert "($CJKIT_TZ)" in out


def test_verbose_after_the_subcommand_lists_settings(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "cjkit.toml").write_text('format = "json"\n', encoding="utf-8")
    code, _, err = _run(capsys, "inspect", str(project / "events.csv"), "-v")
    assert code == 0
    assert f"Setting: format = 'json' ({project / 'cjkit.toml'})" in err


def test_quiet_after_the_subcommand(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    events = project / "events.csv"
    events.write_text(EVENTS + ",visit,2025-01-04T00:00:00,\n", encoding="utf-8")  # no unit
    _, _, loud = _run(capsys, "retention", str(events))
    _, _, quiet = _run(capsys, "retention", str(events), "-q")
    assert "Warning" in loud
    assert quiet == ""


def test_shell_completion_uses_typers_mechanism(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("_CJKIT_COMPLETE", "complete_bash")
    monkeypatch.setenv("COMP_WORDS", "cjkit fun")
    monkeypatch.setenv("COMP_CWORD", "1")
    with pytest.raises(SystemExit):
        main([])
    assert "funnel" in capsys.readouterr().out


def test_json_carries_version_and_generation_time(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from cjkit import __version__

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    _, out, _ = _run(capsys, "inspect", str(project / "events.csv"), "-f", "json")
    doc = json.loads(out)
    assert list(doc)[:4] == ["schema_version", "kind", "cjkit_version", "generated_at"]
    assert (doc["cjkit_version"], doc["generated_at"]) == (__version__, "2023-11-14T22:13:20Z")
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    _, out, _ = _run(capsys, "inspect", str(project / "events.csv"), "-f", "json")
    assert json.loads(out)["generated_at"].startswith("20")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    code, _, err = _run(capsys, "inspect", str(project / "events.csv"), "-f", "json")
    assert code == 2
    assert err == "Error: SOURCE_DATE_EPOCH: expected whole seconds since 1970, got 'yesterday'\n"


def test_jsonl_is_one_object_per_row(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "models", "list", "--format", "jsonl")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert {"aarrr", "aida"} <= {r["id"] for r in rows}


@pytest.mark.parametrize("command", ["inspect", "retention", "lifecycle", "stickiness"])
def test_model_gives_columns_to_analyses_without_a_model(
    project: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    (project / "cols.yaml").write_text(
        "extends: aarrr\ndata:\n  user: uid\n  event: name\n  time: ts\n", encoding="utf-8"
    )
    (project / "cols.csv").write_text(
        "uid,name,ts\nu1,visit,2025-01-01T00:00:00\nu1,visit,2025-01-09T00:00:00\n"
        "u2,visit,2025-01-02T00:00:00\n",
        encoding="utf-8",
    )
    events = str(project / "cols.csv")
    code, _, err = _run(capsys, command, events, "-f", "json")
    assert code == 2, "without the map the columns are missing"
    code, out, err = _run(capsys, command, events, "--model", str(project / "cols.yaml"), "-f", "json")
    assert code == 0, err
    assert json.loads(out)["kind"] == command
    (project / "cjkit.toml").write_text('model = "cols.yaml"\n', encoding="utf-8")
    code, out, err = _run(capsys, command, events, "-f", "json")
    assert code == 0, err
