"""``cjkit check``: targets, baselines, exit codes and the CI formats (GitHub, step summary).

The events: a (paid) visits in weeks 1 and 2, onboards 20 minutes after its first visit and
buys 30 USD; b and c (organic) only visit. Activation = 1/3, new units = 3, and no weekly
cohort is complete yet (the data ends inside week 2), so ``retention.period_1`` is null.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cjkit import api as api_metrics
from cjkit.cli import app

EVENTS = """\
user_id,event,timestamp,channel,amount,currency,order_id
a,visit,2025-03-03T10:00:00Z,paid,,,
a,onboarding_complete,2025-03-03T10:20:00Z,,,,
a,purchase,2025-03-04T10:00:00Z,,30,USD,o1
a,visit,2025-03-11T10:00:00Z,paid,,,
b,visit,2025-03-03T11:00:00Z,organic,,,
c,visit,2025-03-10T09:00:00Z,organic,,,
"""

HEAD = """\
extends: aarrr
id: gate
name: Gate
targets:
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "events.csv").write_text(EVENTS, encoding="utf-8")
    return tmp_path


def write_map(folder: Path, *targets: str) -> Path:
    path = folder / "map.yaml"
    path.write_text(HEAD + "".join(f"  - {t}\n" for t in targets), encoding="utf-8")
    return path


def line_of(path: Path, text: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, start=1) if text in line)


def check(runner: CliRunner, folder: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(
        app, ["check", str(folder / "events.csv"), "--model", str(folder / "map.yaml"), *args]
    )
    return result.exit_code, result.stdout, result.stderr


def test_passing_targets_exit_0(runner: CliRunner, folder: Path) -> None:
    write_map(
        folder,
        "{metric: activation.rate, min: 0.3}",
        "{metric: acquisition.new_units, min: 3, max: 3}",
        "{metric: revenue.revenue, min: 30}",
    )
    code, out, err = check(runner, folder)
    assert code == 0, err
    assert out.count("✓ pass") == 3
    assert "≥ 30.0%" in out  # a rate's bound in the rate's own units
    assert "all 3 targets pass" in out


def test_failed_error_target_exits_1(runner: CliRunner, folder: Path) -> None:
    path = write_map(
        folder,
        "{metric: activation.rate, min: 0.5}",
        "{metric: acquisition.new_units, max: 10}",
    )
    code, out, _ = check(runner, folder)
    assert code == 1
    assert "✗ fail" in out
    assert "1 error target(s) failed" in out
    code, out, _ = check(runner, folder, "-f", "json")
    assert code == 1
    failed = json.loads(out)["checks"][0]
    assert failed["status"] == "fail"
    assert failed["message"] == "activation.rate = 0.3333 is below the minimum 0.5"
    assert failed["line"] == line_of(path, "activation.rate")


def test_warn_failures_exit_0_unless_strict(runner: CliRunner, folder: Path) -> None:
    write_map(folder, "{metric: activation.rate, min: 0.5, severity: warn}")
    code, out, _ = check(runner, folder)
    assert code == 0
    assert "! warn" in out
    code, _, _ = check(runner, folder, "--strict")
    assert code == 1


def test_exit_zero_reports_but_passes(runner: CliRunner, folder: Path) -> None:
    write_map(folder, "{metric: activation.rate, min: 0.9}")
    code, out, _ = check(runner, folder, "--exit-zero")
    assert code == 0
    assert "✗ fail" in out


def test_null_metric_fails_with_reason(folder: Path) -> None:
    write_map(folder, "{metric: retention.period_1, min: 0.1, severity: warn}")
    report = api_metrics.check(
        [str(folder / "events.csv")], api_metrics.CheckOptions(model=str(folder / "map.yaml"))
    )
    (c,) = report.checks
    assert c.status == "fail"
    assert c.actual is None
    assert "has no value: its denominator is 0" in c.message
    assert report.ok  # a warning only
    assert not api_metrics.check(
        [str(folder / "events.csv")],
        api_metrics.CheckOptions(model=str(folder / "map.yaml"), strict=True),
    ).ok


def test_retention_alias_must_match_the_period(folder: Path) -> None:
    write_map(folder, "{metric: retention.month_1, min: 0.1}", "{metric: retention.week_3, min: 0}")
    report = api_metrics.check(
        [str(folder / "events.csv")], api_metrics.CheckOptions(model=str(folder / "map.yaml"))
    )
    month, week = report.checks
    assert month.status == "fail"
    assert "the stage's period is week, so month_1 is undefined" in month.message
    # week_3 is period_3: the cohort table is deepened to 3 periods (null here: incomplete).
    assert "has no value" in week.message


def test_lookup_money_per_currency() -> None:
    stages = {
        "rev": {
            "kind": "revenue",
            "metrics": {"revenue": {"EUR": 5.0, "USD": 7.0}, "arpu": {"USD": 2.0}},
        },
        "ret": {"kind": "retention", "detail": {"period": "week"}, "metrics": {"period_4": 0.25}},
        "acq": {"kind": "acquisition", "count": 12, "metrics": {}},
    }
    value, why = api_metrics.lookup(stages, "rev.revenue")
    assert value is None
    assert why is not None
    assert "reported per currency (EUR, USD)" in why
    assert api_metrics.lookup(stages, "rev.arpu") == (2.0, None)
    assert api_metrics.lookup(stages, "ret.week_4") == (0.25, None)
    assert api_metrics.lookup(stages, "acq.count") == (12.0, None)
    assert api_metrics.lookup(stages, "nope.count")[1] == "no stage 'nope' in the report"


def test_baseline_drops(runner: CliRunner, folder: Path) -> None:
    write_map(folder, "{metric: activation.rate, min: 0.1}")
    result = runner.invoke(
        app,
        [
            "metrics",
            str(folder / "events.csv"),
            "-m",
            str(folder / "map.yaml"),
            "-f",
            "json",
            "-o",
            str(folder / "last.json"),
        ],
    )
    assert result.exit_code == 0, result.stderr
    doc = json.loads((folder / "last.json").read_text(encoding="utf-8"))
    # Pretend last week's activation was 0.40: today's 1/3 dropped by 0.0667 (16.7%).
    activation = next(s for s in doc["stages"] if s["id"] == "activation")
    activation["metrics"]["rate"] = 0.40
    (folder / "last.json").write_text(json.dumps(doc), encoding="utf-8")
    path = write_map(
        folder,
        "{metric: activation.rate, max_drop: 0.05}",
        "{metric: activation.rate, max_drop_pct: 25}",
        "{metric: activation.rate, max_drop_pct: 10, severity: warn}",
        "{metric: acquisition.new_units, max_drop: 0}",
    )
    code, out, _ = check(runner, folder, "--baseline", str(folder / "last.json"), "-f", "json")
    assert code == 1
    result = json.loads(out)
    assert [c["status"] for c in result["checks"]] == ["fail", "pass", "fail", "pass"]
    assert result["checks"][0]["baseline"] == 0.40
    assert (
        "fell by 0.06667 from 0.4 (baseline) to 0.3333, more than 0.05"
        in result["checks"][0]["message"]
    )
    assert "fell by 16.7%" in result["checks"][2]["message"]
    assert result["summary"] == {
        "targets": 4,
        "passed": 2,
        "failed_errors": 1,
        "failed_warnings": 1,
        "skipped": 0,
    }
    assert result["checks"][0]["line"] == line_of(path, "max_drop: 0.05")


def test_regression_bound_without_baseline_is_skipped(runner: CliRunner, folder: Path) -> None:
    write_map(folder, "{metric: activation.rate, max_drop: 0.02}")
    code, out, _ = check(runner, folder, "-f", "json")
    assert code == 0
    (c,) = json.loads(out)["checks"]
    assert c["status"] == "skip"
    assert "no --baseline given" in c["message"]


def test_github_annotations_point_at_the_target_line(runner: CliRunner, folder: Path) -> None:
    path = write_map(
        folder,
        "{metric: acquisition.new_units, min: 1}",
        "{metric: activation.rate, min: 0.5}",
        "{metric: acquisition.new_units, max: 2, severity: warn}",
    )
    code, out, _ = check(runner, folder, "-f", "github")
    assert code == 1
    lines = out.splitlines()
    assert len(lines) == 2  # one per failed target; passing targets say nothing
    rate_line = line_of(path, "activation.rate")
    assert lines[0].startswith(f"::error file={path},line={rate_line},title=cjkit::")
    assert "activation.rate = 0.3333 is below the minimum 0.5" in lines[0]
    warn_line = line_of(path, "severity: warn")
    assert lines[1].startswith(f"::warning file={path},line={warn_line},title=cjkit::")


def test_summary_appends_markdown(runner: CliRunner, folder: Path) -> None:
    write_map(folder, "{metric: activation.rate, min: 0.5}")
    summary = folder / "summary.md"
    summary.write_text("# earlier step\n", encoding="utf-8")
    result = CliRunner(env={"GITHUB_STEP_SUMMARY": str(summary), "NO_COLOR": "1"}).invoke(
        app,
        [
            "check",
            str(folder / "events.csv"),
            "-m",
            str(folder / "map.yaml"),
            "--summary",
            "--exit-zero",
        ],
    )
    assert result.exit_code == 0
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("# earlier step\n## ❌ cjkit check: 1 error target(s) failed")
    assert "| `activation.rate` | 33.3% | ≥ 50.0% | ❌ fail |" in text


def test_summary_without_the_variable_warns(runner: CliRunner, folder: Path) -> None:
    write_map(folder, "{metric: activation.rate, min: 0.1}")
    code, _, err = check(runner, folder, "--summary")
    assert code == 0
    assert "GITHUB_STEP_SUMMARY is not set" in err


def test_markdown_format(runner: CliRunner, folder: Path) -> None:
    write_map(folder, "{metric: activation.rate, min: 0.1}")
    code, out, _ = check(runner, folder, "-f", "markdown")
    assert code == 0
    assert out.startswith("## ✅ cjkit check: all 1 targets pass")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not JSON"),
        ('{"kind": "funnel", "steps": []}', "got kind 'funnel'"),
    ],
)
def test_bad_baseline_is_exit_2(
    runner: CliRunner, folder: Path, content: str, message: str
) -> None:
    write_map(folder, "{metric: activation.rate, max_drop: 0.1}")
    (folder / "base.json").write_text(content, encoding="utf-8")
    code, out, err = check(runner, folder, "--baseline", str(folder / "base.json"))
    assert code == 2
    assert out == ""
    assert message in err
    assert err.count("\n") == 1


def test_unknown_format_is_exit_2(runner: CliRunner, folder: Path) -> None:
    write_map(folder, "{metric: activation.rate, min: 0.1}")
    code, _, err = check(runner, folder, "-f", "csv")
    assert code == 2
    assert "--format: expected one of table, json, markdown, github" in err
