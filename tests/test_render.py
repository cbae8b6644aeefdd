"""Output contracts: plain tables off a TTY, colour rules, tidy CSV, Markdown, atomic -o."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from cjkit import render
from cjkit.cli import main
from cjkit.errors import OutputError
from cjkit.io.output import write_atomic, write_text

EVENTS = (
    "user_id,event,timestamp,channel\n"
    "1,visit,2025-01-01T00:00:00Z,ads\n1,signup,2025-01-01T01:00:00Z,ads\n1,purchase,2025-01-02T00:00:00Z,ads\n"
    "2,visit,2025-01-01T00:00:00Z,seo\n2,signup,2025-01-03T00:00:00Z,seo\n"
    "3,visit,2025-01-05T00:00:00Z,seo\n"
)
STEPS = ["-s", "visit", "-s", "signup", "-s", "purchase"]


@pytest.fixture
def events(tmp_path: Path) -> Path:
    path = tmp_path / "events.csv"
    path.write_text(EVENTS, encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_table_off_a_tty_is_plain_text(events: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    code, out, _ = run(capsys, "funnel", str(events), *STEPS)
    assert code == 0
    assert "\x1b[" not in out
    assert "visit" in out
    assert "66.7%" in out  # signup: 2 of 3, one decimal


def test_force_color_gives_ansi(events: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    code, out, _ = run(capsys, "funnel", str(events), *STEPS)
    assert code == 0
    assert "\x1b[" in out


@pytest.mark.parametrize("how", ["env", "flag"])
def test_no_color_wins_over_force_color(how: str, events: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    args = ["funnel", str(events), *STEPS]
    if how == "env":
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        args.append("--no-color")
    code, out, _ = run(capsys, *args)
    assert code == 0
    assert "\x1b[" not in out


def test_json_contract(events: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "funnel", str(events), *STEPS, "-f", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["schema_version"] == 1
    assert doc["kind"] == "funnel"
    assert doc["settings"]["window_seconds"] == 14 * 86400
    assert [s["count"] for s in doc["steps"]] == [3, 2, 1]
    signup = doc["steps"][1]
    assert signup["conversion_from_previous"] == pytest.approx(2 / 3)
    assert signup["drop_off"] == 1
    # Gaps from visit to signup: user 1 3,600 s, user 2 172,800 s. Mean = median = 88,200;
    # p90 (linear) = 3,600 + 0.9 × 169,200 = 155,880.
    assert signup["time_to_convert"] == {"mean_s": 88200.0, "median_s": 88200.0, "p90_s": pytest.approx(155880.0)}
    low, high = signup["ci"]["conversion_from_start"]["low"], signup["ci"]["conversion_from_start"]["high"]
    assert 0 <= low < 2 / 3 < high <= 1
    assert doc["steps"][0]["time_to_convert"] is None
    assert doc["breakdown"] is None


def test_csv_is_tidy_with_full_precision(events: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "funnel", str(events), *STEPS, "--by", "channel", "-f", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["segment"] for r in rows] == ["(all)"] * 3 + ["ads"] * 3 + ["seo"] * 3
    assert rows[1]["conversion_from_start"] == repr(2 / 3)
    seo = [int(r["count"]) for r in rows if r["segment"] == "seo"]
    ads = [int(r["count"]) for r in rows if r["segment"] == "ads"]
    total = [int(r["count"]) for r in rows if r["segment"] == "(all)"]
    assert [a + s for a, s in zip(ads, seo, strict=True)] == total


def test_markdown(events: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "funnel", str(events), *STEPS, "-f", "markdown")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("| segment | step | name | count |")
    assert set(lines[1].replace("|", "").split()) <= {"---", "---:"}


def test_output_file_is_written_atomically(events: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out.json"
    code, out, _ = run(capsys, "funnel", str(events), *STEPS, "-f", "json", "-o", str(target))
    assert code == 0
    assert out == ""
    assert json.loads(target.read_text(encoding="utf-8"))["kind"] == "funnel"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["events.csv", "out.json"]


def test_failed_write_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"

    def explode(tmp: Path) -> None:
        tmp.write_text("half", encoding="utf-8")
        raise OSError(28, "No space left on device")

    with pytest.raises(OutputError, match="No space left on device"):
        write_atomic(target, explode)
    assert list(tmp_path.iterdir()) == []


def test_write_text_replaces_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "x.txt"
    target.write_text("old", encoding="utf-8")
    write_text(target, "new")
    assert target.read_text(encoding="utf-8") == "new"


def test_units_file(events: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    units = tmp_path / "units.csv"
    code, _, _ = run(capsys, "funnel", str(events), *STEPS, "--by", "channel", "--units", str(units), "-f", "json")
    assert code == 0
    rows = list(csv.DictReader(units.open(encoding="utf-8")))
    assert [r["user_id"] for r in rows] == ["1", "2", "3"]
    assert [r["furthest_step_name"] for r in rows] == ["purchase", "signup", "visit"]
    assert rows[1]["2_signup_at"].startswith("2025-01-03")
    assert rows[2]["2_signup_at"] == ""
    assert [r["channel"] for r in rows] == ["ads", "seo", "seo"]


def test_quiet_hides_warnings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "e.csv"
    path.write_text(EVENTS + ",visit,2025-01-01T00:00:00Z,ads\n", encoding="utf-8")
    code, _, err = run(capsys, "funnel", str(path), *STEPS)
    assert code == 0
    assert err.strip().startswith(
        "Warning: dropped 1 row(s) with no unit or no time (1 without a unit, 0 without a time)"
    )
    code, _, err = run(capsys, "-q", "funnel", str(path), *STEPS)
    assert code == 0
    assert err == ""


def test_narrow_terminal_keeps_numbers_whole(events: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = run(capsys, "funnel", str(events), *STEPS)
    assert code == 0
    assert all(len(line) <= 80 for line in out.splitlines())
    assert "signup" in out
    assert "66.7%" in out


def test_nan_becomes_null_in_json() -> None:
    class Fake:
        kind = "funnel"

        def to_dict(self) -> dict[str, object]:
            return {"x": float("nan"), "y": [float("inf"), 1.5]}

        def to_rows(self) -> list[dict[str, object]]:
            return []

    doc = json.loads(render.to_json(Fake()))
    assert {k: doc[k] for k in ("x", "y")} == {"x": None, "y": [None, 1.5]}
