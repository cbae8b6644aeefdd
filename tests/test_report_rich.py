"""``rich.print(report)`` draws every report as ``--format table`` does (``Document.__rich__``).

Each case runs a command through ``cjkit`` with ``--format table``, keeps the report object the
command hands to the renderer, and prints that object on a recording rich Console: the text must
be the command's own output, byte for byte.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from rich.console import Console

from cjkit import render
from cjkit.cli import main
from cjkit.report import Document
from cjkit.report.report import JourneyReport as ReportView
from cjkit.report.serial import Serial

ROOT = Path(__file__).resolve().parents[1]
SHOP = ROOT / "examples" / "shop"
WIDTH = 100


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The first 40,000 events of the shop example: every command runs in well under a second."""
    path = tmp_path_factory.mktemp("rich") / "events.parquet"
    pl.scan_parquet(SHOP / "events.parquet").head(40_000).collect().write_parquet(path)
    return str(path)


def _unit(sample: str) -> str:
    return str(pl.read_parquet(sample, columns=["user_id"])["user_id"][0])


CASES: dict[str, Any] = {
    "funnel": lambda s: ["funnel", s, "-s", "visit", "-s", "signup", "-s", "purchase", "--by", "channel"],
    "inspect": lambda s: ["inspect", s],
    "validate": lambda s: ["validate", str(SHOP / "map.yaml")],
    "models": lambda s: ["models", "list"],
    "model": lambda s: ["models", "show", "aarrr"],
    "retention": lambda s: ["retention", s],
    "lifecycle": lambda s: ["lifecycle", s],
    "stickiness": lambda s: ["stickiness", s],
    "metrics": lambda s: ["metrics", s, "--model", str(SHOP / "map.yaml")],
    "check": lambda s: ["check", s, "--model", str(SHOP / "map.yaml")],
    "paths": lambda s: ["paths", s],
    "clv": lambda s: ["clv", s, "--purchase-event", "purchase", "--amount", "amount"],
    "diagnose": lambda s: ["diagnose", s, "--model", str(SHOP / "map.yaml")],
    "journey": lambda s: ["journey", s, "--unit", _unit(s), "-s", "visit", "-s", "signup"],
    # A folded breakdown: the table and the line under it that says how much was folded.
    "funnel_folded": lambda s: ["funnel", s, "-s", "visit", "-s", "signup", "--by", "channel", "--top", "2"],
}  # fmt: skip


def _run(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[Any, str]:
    """Return the report the command drew and what it printed."""
    drawn: list[Any] = []
    emit = render.emit

    def spy(report: Any, *args: Any, **kwargs: Any) -> None:
        drawn.append(report)
        emit(report, *args, **kwargs)

    monkeypatch.setattr(render, "emit", spy)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", str(WIDTH))
    code = main([*argv, "--format", "table"])
    out = capsys.readouterr().out
    assert code in (0, 1), out
    assert len(drawn) == 1
    return drawn[0], out


def _rich_text(report: Any) -> str:
    console = Console(record=True, width=WIDTH, file=io.StringIO(), color_system=None)
    console.print(report)
    return console.export_text()


@pytest.mark.parametrize("case", sorted(CASES))
def test_rich_print_draws_the_cli_table(
    case: str, sample: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    report, out = _run(CASES[case](sample), monkeypatch, capsys)
    assert report.kind == case.removesuffix("_folded")
    assert ("the rest as (other)" in out) == case.endswith("_folded")
    assert isinstance(report, Document)
    assert _rich_text(report) == out


def test_every_report_class_is_drawn() -> None:
    """Each Document subclass has a table (the cases above run all but the report view)."""
    from cjkit.render import draw

    reports = _subclasses(Document)
    assert reports == set(draw._drawers()[0])
    assert ReportView in reports


def test_the_report_view_draws_its_metrics_report(
    sample: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    metrics, out = _run(CASES["metrics"](sample), monkeypatch, capsys)
    view = ReportView(
        metrics=metrics, trend_period="week", trends=[], histograms=[], lifecycle=None,
        stickiness=None, meta={},
    )  # fmt: skip
    assert _rich_text(view) == out


def test_a_part_of_a_report_is_data_not_a_drawing() -> None:
    """Only whole reports draw themselves; their parts serialize (Serial) but have no table."""
    assert not hasattr(Serial, "__rich__")


def _subclasses(cls: type) -> set[type]:
    out: set[type] = set()
    for sub in cls.__subclasses__():
        out |= {sub, *_subclasses(sub)}
    return out
