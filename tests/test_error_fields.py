"""Library errors name option fields (``week_start``); the CLI prints the flag (``--week-start``).

Each case raises the same error twice: through the library, where the message names the field a
Python caller passes, and through ``cjkit``, where the one ``Error:`` line names the flag, exactly
as before the fields existed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from cjkit.cli import main
from cjkit.cli.boundary import error_line, flag
from cjkit.engine.insight import compare
from cjkit.engine.spark.session import parse_conf
from cjkit.errors import InputError, UsageError, one_of
from cjkit.io.databases import Relation
from cjkit.timerange import TimeRange, parse_range

EVENTS = "user_id,event,timestamp\n1,visit,2025-01-01T00:00:00Z\n1,signup,2025-01-02T00:00:00Z\n"


def _cli_error(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(list(args)) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


@pytest.fixture
def events(tmp_path: Path) -> str:
    path = tmp_path / "e.csv"
    path.write_text(EVENTS, encoding="utf-8")
    return str(path)


def test_flag_of_a_field() -> None:
    assert flag("week_start") == "--week-start"
    assert flag("since") == "--since"
    assert flag("conf") == "--spark-conf"  # EngineOptions.conf


def test_spark_conf_item_names_the_field() -> None:
    with pytest.raises(UsageError) as info:
        parse_conf(["spark.driver.memory"])
    assert str(info.value) == "conf 'spark.driver.memory': expected KEY=VALUE"
    assert error_line(info.value) == "Error: --spark-conf 'spark.driver.memory': expected KEY=VALUE"


def test_leading_option_is_the_field_in_the_library_and_the_flag_in_the_cli(
    events: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(UsageError) as info:
        parse_range("yesterday", None)
    assert str(info.value).startswith("since: can't read 'yesterday' as a date or time")
    assert info.value.option == "since"
    line = _cli_error(
        capsys, "funnel", events, "-s", "visit", "-s", "signup", "--since", "yesterday"
    )
    assert line == f"Error: --{info.value}"


def test_options_inside_the_sentence(events: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(UsageError) as info:
        parse_range("2025-02-01", "2025-01-01")
    assert str(info.value) == "until (2025-01-01) is before since (2025-02-01)"
    line = _cli_error(
        capsys, "funnel", events, "-s", "visit", "-s", "signup",
        "--since", "2025-02-01", "--until", "2025-01-01",
    )  # fmt: skip
    assert line == "Error: --until (2025-01-01) is before --since (2025-02-01)"


def test_compare_needs_both_ends() -> None:
    half = TimeRange(since=datetime(2025, 1, 1, tzinfo=UTC))
    with pytest.raises(UsageError) as info:
        compare.resolve(
            "previous", half, period="week", tz="UTC", week_start="monday", data_end=None
        )
    assert str(info.value) == "compare needs both since and until, or neither"
    assert error_line(info.value) == "Error: --compare needs both --since and --until, or neither"


def test_one_of_names_the_field_and_keeps_its_hint() -> None:
    with pytest.raises(UsageError) as info:
        one_of("week_start", "sundy", ["monday", "sunday"])
    assert str(info.value) == "week_start: expected one of monday, sunday, got 'sundy'"
    assert info.value.hint == "did you mean 'sunday'?"
    assert error_line(info.value) == (
        "Error: --week-start: expected one of monday, sunday, got 'sundy' "
        "(hint: did you mean 'sunday'?)"
    )


def test_fields_in_a_hint() -> None:
    error = InputError(
        "column 'ts' mixes time formats",
        hint="convert the column to one format, or pass {time_format}",
        options=("time_format",),
    )
    assert error.hint == "convert the column to one format, or pass time_format"
    assert error_line(error) == (
        "Error: column 'ts' mixes time formats "
        "(hint: convert the column to one format, or pass --time-format)"
    )


def test_database_relation_names_both_fields() -> None:
    with pytest.raises(UsageError) as info:
        Relation.of(None, None)
    assert str(info.value) == "a database input needs exactly one of table T or query SQL"
    assert error_line(info.value) == (
        "Error: a database input needs exactly one of --table T or --query SQL"
    )


def test_braces_in_a_value_stay_as_they_are() -> None:
    error = UsageError("compare '{since}..x': bad", option="compare")
    assert str(error) == "compare '{since}..x': bad"
    assert error_line(error) == "Error: --compare '{since}..x': bad"


def test_funnel_options_name_their_fields(events: str, capsys: pytest.CaptureFixture[str]) -> None:
    from cjkit.api.funnel import FunnelOptions, funnel_spec

    options = FunnelOptions(steps=("visit", "signup"), order="any", anchor="first")
    with pytest.raises(UsageError) as info:
        funnel_spec(options, None, TimeRange(), "user_id")
    assert str(info.value) == "anchor first applies to ordered funnels, not order any"
    line = _cli_error(
        capsys, "funnel", events, "-s", "visit", "-s", "signup",
        "--order", "any", "--window-anchor", "first",
    )  # fmt: skip
    assert line == "Error: --window-anchor first applies to ordered funnels, not --order any"


def test_a_missing_breakdown_column_names_the_field(
    events: str, capsys: pytest.CaptureFixture[str]
) -> None:
    line = _cli_error(capsys, "funnel", events, "-s", "visit", "-s", "signup", "--by", "nope")
    assert line.startswith("Error: --by: no column 'nope' in the events")
