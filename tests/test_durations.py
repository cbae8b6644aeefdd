"""How durations are shown: rounded parts carry into the next unit instead of showing 24h or 60m."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cjkit.durations import format_duration


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "–"),
        (0, "0s"),
        (45, "45s"),
        (59.4, "59s"),
        (59.7, "1m"),
        (12 * 60, "12m"),
        (59 * 60 + 40, "1h"),
        (2 * 3600 + 30 * 60, "2h 30m"),
        (2 * 3600 + 59 * 60 + 50, "3h"),
        (23 * 3600 + 59 * 60 + 50, "1d"),
        (3 * 86400 + 4 * 3600, "3d 4h"),
        (86400 + 23 * 3600 + 40 * 60, "2d"),
        (86400 + 40 * 60, "1d"),
        (-90 * 60, "-1h 30m"),
    ],
)
def test_format_duration(seconds: float | None, text: str) -> None:
    assert format_duration(seconds) == text


@given(st.floats(min_value=0, max_value=400 * 86400))
def test_no_part_reaches_its_next_unit(seconds: float) -> None:
    text = format_duration(seconds)
    limits = {"h": 24, "m": 60, "s": 60}
    for part in text.split():
        number, unit = int(part[:-1]), part[-1]
        assert number < limits.get(unit, 10**9), text
