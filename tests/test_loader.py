"""Maps and models: every failure class has a bad file here with its exact message pinned."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from cjkit.cli import app
from cjkit.errors import ConfigError, MapInvalid
from cjkit.maps import loader
from cjkit.maps.schema import JourneyMap
from cjkit.maps.starter import starter_map

BAD = Path(__file__).resolve().parent / "data" / "bad_maps"

EXPECTED: dict[str, list[str]] = {
    '01_yaml_syntax.yaml': [
        '01_yaml_syntax.yaml:4:9: YAML syntax error: mapping values are not allowed here',
    ],
    '02_empty.yaml': [
        '02_empty.yaml:1:1: the file is empty; expected a mapping with id, name and stages (or extends)',
    ],
    '03_not_mapping.yaml': [
        '03_not_mapping.yaml:1:1: expected a mapping at the top level, got a list',
    ],
    '04_not_utf8.yaml': [
        '04_not_utf8.yaml:2:11: the file is not UTF-8 (byte 0xe9); save it as UTF-8',
    ],
    '05_unknown_key.yaml': [
        "05_unknown_key.yaml:3:3: settings.windw: unknown key 'windw'; did you mean 'window'?",
    ],
    '06_wrong_type.yaml': [
        "06_wrong_type.yaml:2:1: segments: expected a list, got 'channel'",
    ],
    '07_duplicate_key.yaml': [
        "07_duplicate_key.yaml:4:3: settings.window: duplicate key 'window'",
    ],
    '08_duplicate_stage_id.yaml': [
        "08_duplicate_stage_id.yaml:5:6: stages[1].id: duplicate stage id 'visit' (first at stages[0])",
    ],
    '09_unknown_extends.yaml': [
        "09_unknown_extends.yaml:1:1: extends: unknown model 'aarr' (built-in: 5a, aarrr, accsr, aida, coleman-8, tofu-mofu-bofu; or a path to a map); did you mean 'aarrr'?",
    ],
    '10_extends_cycle.yaml': [
        '10_extends_cycle_b.yaml:1:1: extends: extends cycle: 10_extends_cycle.yaml → 10_extends_cycle_b.yaml → 10_extends_cycle.yaml',
    ],
    '10_extends_cycle_b.yaml': [
        '10_extends_cycle.yaml:1:1: extends: extends cycle: 10_extends_cycle_b.yaml → 10_extends_cycle.yaml → 10_extends_cycle_b.yaml',
    ],
    '11_bad_duration.yaml': [
        "11_bad_duration.yaml:3:3: settings.window: expected a duration such as 30s, 15m, 2h, 7d or 2w, got '7 days'",
    ],
    '12_unknown_target_metric.yaml': [
        "12_unknown_target_metric.yaml:3:6: targets[0].metric: stage 'activation' (activation) has no metric 'rte' (metrics: count, conversion_from_previous, conversion_from_start, drop_off, median_time_to_convert_s, rate, median_time_to_activate_s, p90_time_to_activate_s); did you mean 'rate'?",
    ],
    '13_unknown_target_stage.yaml': [
        "13_unknown_target_stage.yaml:3:6: targets[0].metric: no stage 'activaton' (stages: acquisition, activation, retention, referral, revenue); did you mean 'activation'?",
    ],
    '14_min_above_max.yaml': [
        '14_min_above_max.yaml:3:5: targets[0]: min (0.5) is greater than max (0.2)',
    ],
    '15_within_on_first_stage.yaml': [
        "15_within_on_first_stage.yaml:4:46: stages[0].within: 'within' is measured from the previous stage; the first stage has none",
    ],
    '16_option_on_wrong_kind.yaml': [
        "16_option_on_wrong_kind.yaml:4:5: stages[1].amount: 'amount' applies only to a stage of kind revenue, not activation",
    ],
    '17_unknown_stage_override.yaml': [
        "17_unknown_stage_override.yaml:3:3: stages.activaton: no stage 'activaton' in the base model (stages: acquisition, activation, retention, referral, revenue); did you mean 'activation'?",
    ],
    '18_bad_kind.yaml': [
        "18_bad_kind.yaml:4:30: stages[0].kind: expected 'step', 'acquisition', 'activation', 'retention', 'referral', 'revenue' or 'satisfaction'",
    ],
    '19_bad_period.yaml': [
        "19_bad_period.yaml:3:3: settings.period: expected 'day', 'week', 'month' or 'quarter'",
    ],
    '20_segment_is_a_column.yaml': [
        "20_segment_is_a_column.yaml:2:21: segments[1]: 'user_id' is the unit column, not a property to break down by",
    ],
    '21_missing_spend_file.yaml': [
        '21_missing_spend_file.yaml:2:9: spend.path: spend file no_such_spend.csv not found',
    ],
    '22_spend_without_amount.yaml': [
        "22_spend_without_amount.yaml:2:9: spend.path: spend file spend_without_amount.csv has no column 'amount' (columns: date, channel, cost)",
    ],
    '23_one_stage.yaml': [
        '23_one_stage.yaml:3:1: stages: a model needs at least two stages',
    ],
    '24_stage_without_events.yaml': [
        '24_stage_without_events.yaml:5:26: stages[1].events: a stage needs at least one event',
    ],
    '25_negative_duration.yaml': [
        "25_negative_duration.yaml:4:5: stages[1].within: a duration must be at least 1s, got '0h'",
    ],
    '26_bad_filter_operator.yaml': [
        "26_bad_filter_operator.yaml:5:43: stages[4].events[0].where.amount.above: expected 'eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'not_in', 'contains' or 'exists'",
    ],
    '27_bad_stage_id.yaml': [
        '27_bad_stage_id.yaml:4:6: stages[0].id: expected an id of lowercase letters, digits and _ (starting with a letter)',
    ],
    '28_missing_name.yaml': [
        '28_missing_name.yaml:1:1: name: required key is missing',
    ],
    '29_bad_timezone.yaml': [
        "29_bad_timezone.yaml:2:8: data.timezone: unknown time zone 'Mars/Olympus' (use an IANA name such as UTC or Asia/Ho_Chi_Minh)",
    ],
    '30_unsafe_tag.yaml': [
        "30_unsafe_tag.yaml:2:7: unsupported YAML tag '!!python/object/apply:os.system' (maps are plain YAML: no tags)",
    ],
}


@pytest.fixture
def in_bad(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(BAD)
    return BAD


def test_every_bad_map_is_pinned() -> None:
    assert sorted(p.name for p in BAD.glob("[0-9]*.yaml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_map_message(in_bad: Path, name: str) -> None:
    loaded, problems = loader.check(name)
    assert loaded is None
    assert [str(p) for p in problems] == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_validate_cli_exit_1_one_line_per_problem(in_bad: Path, name: str, runner: CliRunner) -> None:
    result = runner.invoke(app, ["validate", name, "--format", "github"])
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == len(EXPECTED[name])
    for line, expected in zip(lines, EXPECTED[name], strict=True):
        file, line_no, col, _ = expected.split(":", 3)
        assert line.startswith(f"::error file={file},line={line_no},col={col},title=cjkit validate::")
    assert "Traceback" not in result.output


def test_all_problems_reported_at_once(tmp_path: Path) -> None:
    bad = tmp_path / "many.yaml"
    bad.write_text(
        "extends: aarrr\n"
        "settings:\n"
        "  windw: 7d\n"
        "  order: sideways\n"
        "stages:\n"
        "  activation: {within: 3x}\n",
        encoding="utf-8",
    )
    _, problems = loader.check(bad)
    keys = [p.key for p in problems]
    assert keys == ["settings.windw", "settings.order", "stages[1].within"]
    assert [p.line for p in problems] == [3, 4, 6]


def test_load_raises_map_invalid(in_bad: Path) -> None:
    with pytest.raises(MapInvalid) as info:
        loader.load("05_unknown_key.yaml")
    assert str(info.value).startswith("05_unknown_key.yaml:3:3: settings.windw")


def test_missing_map_file_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"Error: {tmp_path / 'nope.yaml'}: no such file"


def test_folder_as_map_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path)])
    assert result.exit_code == 2
    assert "is a folder" in result.stderr


def test_unknown_model_name_has_hint() -> None:
    with pytest.raises(ConfigError) as info:
        loader.load("aida2")
    assert "unknown model 'aida2'" in str(info.value)
    assert info.value.hint == "did you mean 'aida'?"


@pytest.mark.parametrize("name", ["aarrr", "aida", "5a", "accsr", "tofu-mofu-bofu", "coleman-8"])
def test_builtin_models_validate(name: str) -> None:
    model = loader.load(name).map
    assert model.id == name
    assert len(model.stages) >= 3
    for stage in model.stages:
        assert stage.description, f"{name}.{stage.id} has no description"
        assert stage.questions, f"{name}.{stage.id} has no questions"
        assert stage.touchpoints, f"{name}.{stage.id} has no touchpoints"
        assert stage.labels.get("vi"), f"{name}.{stage.id} has no Vietnamese label"


def test_builtin_names() -> None:
    assert loader.builtin_names() == ["5a", "aarrr", "accsr", "aida", "coleman-8", "tofu-mofu-bofu"]


def test_vietnamese_labels() -> None:
    labels = [s.labels["vi"] for s in loader.load("tofu-mofu-bofu").map.stages]
    assert labels == ["Nhận thức", "Cân nhắc", "Quyết định"]
    labels = [s.labels["vi"] for s in loader.load("aarrr").map.stages]
    assert labels == ["Thu hút", "Kích hoạt", "Giữ chân", "Giới thiệu", "Doanh thu"]


def test_extends_overrides_stage_by_id(tmp_path: Path) -> None:
    path = tmp_path / "map.yaml"
    path.write_text(
        "extends: aarrr\nname: Mine\nstages:\n  activation: {events: [first_order], within: 3d}\n",
        encoding="utf-8",
    )
    model = loader.load(path).map
    activation = model.stage("activation")
    assert activation is not None
    assert activation.event_names() == ["first_order"]
    assert activation.within == "3d"
    assert activation.description  # kept from the base model
    assert model.name == "Mine"
    assert model.id == "map"
    assert model.stage_ids() == loader.load("aarrr").map.stage_ids()


def test_extends_relative_path_chain(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text(
        "extends: aida\nsettings: {window: 7d}\n", encoding="utf-8"
    )
    (tmp_path / "sub").mkdir()
    child = tmp_path / "sub" / "child.yaml"
    child.write_text("extends: ../base.yaml\nsettings: {order: strict}\n", encoding="utf-8")
    model = loader.load(child).map
    assert model.settings.window == "7d"
    assert model.settings.order == "strict"
    assert model.stage_ids() == ["attention", "interest", "desire", "action"]


def test_error_in_base_points_at_base_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("base.yaml").write_text(
        "id: b\nname: B\nstages:\n  - {id: a, name: A, events: [x]}\n  - {id: c, name: C, events: [y], kind: revenu}\n",
        encoding="utf-8",
    )
    Path("child.yaml").write_text("extends: base.yaml\nname: Child\n", encoding="utf-8")
    _, problems = loader.check("child.yaml")
    assert [str(p) for p in problems] == [
        "base.yaml:5:35: stages[1].kind: expected 'step', 'acquisition', 'activation', "
        "'retention', 'referral', 'revenue' or 'satisfaction'"
    ]


def test_property_filters_are_data() -> None:
    model = JourneyMap.model_validate(
        {
            "id": "f",
            "name": "F",
            "stages": [
                {"id": "a", "name": "A", "events": ["visit|landing"]},
                {
                    "id": "b",
                    "name": "B",
                    "events": [{"name": "purchase", "where": {"amount": {"gte": 10}, "country": ["VN", "TH"]}}],
                },
            ],
        }
    )
    assert model.stages[0].event_names() == ["visit", "landing"]
    assert model.stages[1].event_names() == ["purchase"]


def test_init_writes_a_map_that_validates(tmp_path: Path, runner: CliRunner) -> None:
    out = tmp_path / "map.yaml"
    result = runner.invoke(app, ["init", "--model", "aida", "-o", str(out)])
    assert result.exit_code == 0, result.output
    loaded = loader.load(out)
    assert loaded.map.stage_ids() == ["attention", "interest", "desire", "action"]
    again = runner.invoke(app, ["init", "-o", str(out)])
    assert again.exit_code == 2
    assert "already exists (use --force to overwrite)" in again.stderr
    forced = runner.invoke(app, ["init", "-o", str(out), "--force"])
    assert forced.exit_code == 0
    assert loader.load(out).map.stage_ids()[0] == "acquisition"


@pytest.mark.parametrize("name", ["aarrr", "aida", "5a", "accsr", "tofu-mofu-bofu", "coleman-8"])
def test_starter_map_validates_for_every_model(name: str, tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(starter_map(name), encoding="utf-8")
    assert loader.load(path).map.stage_ids() == loader.load(name).map.stage_ids()


def test_models_list(runner: CliRunner) -> None:
    result = runner.invoke(app, ["models", "list", "--format", "json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert [m["id"] for m in data["models"]] == loader.builtin_names()
    aarrr = next(m for m in data["models"] if m["id"] == "aarrr")
    assert aarrr["stages"] == ["Acquisition", "Activation", "Retention", "Referral", "Revenue"]
    table = runner.invoke(app, ["models", "list"])
    assert "Acquisition → Activation" in table.stdout


@pytest.mark.parametrize("fmt", ["table", "json", "yaml", "markdown", "csv"])
def test_models_show(runner: CliRunner, fmt: str) -> None:
    result = runner.invoke(app, ["models", "show", "aarrr", "--format", fmt])
    assert result.exit_code == 0, result.output
    assert "Activation" in result.stdout
    if fmt == "json":
        stage = json.loads(result.stdout)["model"]["stages"][1]
        assert "rate" in stage["metrics"]
        assert stage["questions"]
    if fmt == "yaml":
        assert JourneyMap.model_validate(yaml.safe_load(result.stdout)).id == "aarrr"


def test_models_show_unknown(runner: CliRunner) -> None:
    result = runner.invoke(app, ["models", "show", "aarr"])
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: unknown model 'aarr'")
    assert "did you mean 'aarrr'?" in result.stderr


def test_schema_is_json_schema(runner: CliRunner) -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["title"] == "cjkit journey map"
    assert "extends" in schema["properties"]
    assert schema["additionalProperties"] is False


def test_validate_ok_exit_0(runner: CliRunner) -> None:
    result = runner.invoke(app, ["validate", "aarrr"])
    assert result.exit_code == 0, result.output
    assert "✓" in result.stdout


def test_validate_json(in_bad: Path, runner: CliRunner) -> None:
    result = runner.invoke(app, ["validate", "05_unknown_key.yaml", "aarrr", "--format", "json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False
    assert [f["valid"] for f in data["files"]] == [False, True]
    assert data["files"][0]["problems"][0] == {
        "file": "05_unknown_key.yaml",
        "line": 3,
        "col": 3,
        "key": "settings.windw",
        "message": "unknown key 'windw'; did you mean 'window'?",
        "severity": "error",
    }


def test_validate_with_data(tmp_path: Path, runner: CliRunner) -> None:
    events = tmp_path / "events.csv"
    events.write_text(
        "user_id,event,timestamp,channel\n1,visit,2025-01-01T00:00:00Z,ads\n1,onboarding_complete,2025-01-02T00:00:00Z,ads\n",
        encoding="utf-8",
    )
    mapfile = tmp_path / "map.yaml"
    mapfile.write_text("extends: aarrr\nsegments: [channel, persona]\n", encoding="utf-8")
    result = runner.invoke(app, ["validate", str(mapfile), "--data", str(events), "--format", "json"])
    assert result.exit_code == 1, result.output
    problems = json.loads(result.stdout)["files"][0]["problems"]
    errors = [p["message"] for p in problems if p["severity"] == "error"]
    warnings = [p["message"] for p in problems if p["severity"] == "warn"]
    assert any("no column 'persona'" in e for e in errors)
    assert "event 'invite_sent' never occurs in the data" in " ".join(warnings)
