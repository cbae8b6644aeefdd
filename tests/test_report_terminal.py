"""The terminal's charts: the retention cohort heatmap in colour, the time-to-convert histogram
as bars, and both as plain text (the same numbers, no escape codes) when colour is off."""

from __future__ import annotations

import re

from conftest import EXAMPLES

from cjkit import api, render
from cjkit.cli import main

SHOP = str(EXAMPLES / "shop" / "events.parquet")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_retention_heatmap_colour_and_plain() -> None:
    report = api.retention([SHOP], api.RetentionOptions(periods=4))
    coloured = render.to_table(report, color=True, width=120)
    plain = render.to_table(report, color=False, width=120)
    # Colour on: the cells carry background colours (SGR 4x/10x or 48;…).
    assert re.search(r"\x1b\[[0-9;]*(4[0-7]|10[0-7]|48;[0-9;]+)m", coloured)
    assert not ANSI.search(plain)
    # The same text either way: colour adds style, never numbers.
    assert ANSI.sub("", coloured) == plain
    first = report.cohorts[0]
    assert f"{first.size:,}" in plain
    assert f"{100 * first.rates[1]:.1f}%" in plain


def test_time_to_convert_histogram_plain(capsys) -> None:  # type: ignore[no-untyped-def]
    code = main(
        ["funnel", SHOP, "--model", "aarrr", "--ttc-from", "1", "--ttc-to", "2", "--no-color"]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert not ANSI.search(out)
    assert "█" in out  # the bars
    assert "p50" in out
