"""Times: epoch units by magnitude, YYYYMMDD dates, offsets after a space, DST rules that are
the same in CSV, Parquet and NDJSON, and one-line exit-2 errors for impossible values."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from cjkit.cli import main
from cjkit.io import sources


def _times(path: Path, **kw: str) -> list[datetime]:
    events = sources.read([str(path)], sources.ColumnMap(**kw))
    return sorted(events.clean().select(sources.TIME).collect().to_series().to_list())


def _csv(path: Path, values: list[str], header: str = "user_id,event,timestamp") -> Path:
    path.write_text(header + "\n" + "".join(f"u{i},e,{v}\n" for i, v in enumerate(values)))
    return path


NOON = datetime(2024, 1, 5, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "fmt"),
    [
        (1704456000, "epoch_s"),
        (1704456000_000, "epoch_ms"),
        (1704456000_000_000, "epoch_us"),
        (1704456000_000_000_000, "epoch_ns"),
    ],
)
@pytest.mark.parametrize("kind", ["csv", "parquet", "ndjson"])
def test_epoch_units_by_magnitude(tmp_path: Path, value: int, fmt: str, kind: str) -> None:
    frame = pl.DataFrame({"user_id": ["u"], "event": ["e"], "timestamp": [value]})
    path = tmp_path / f"t.{kind}"
    getattr(frame, f"write_{kind}")(path)
    assert _times(path) == [NOON]
    assert _times(path, time_format=fmt) == [NOON]


@pytest.mark.parametrize("kind", ["csv", "parquet", "ndjson"])
def test_compact_dates_with_time_format_date(tmp_path: Path, kind: str) -> None:
    frame = pl.DataFrame(
        {"user_id": ["u", "v"], "event": ["e", "e"], "timestamp": [20240105, 20240106]}
    )
    path = tmp_path / f"t.{kind}"
    getattr(frame, f"write_{kind}")(path)
    assert _times(path, time_format="date") == [
        datetime(2024, 1, 5, tzinfo=UTC),
        datetime(2024, 1, 6, tzinfo=UTC),
    ]


def test_auto_warns_when_integers_look_like_dates(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pl.DataFrame({"user_id": ["u"], "event": ["e"], "timestamp": [20240105]}).write_parquet(path)
    events = sources.read([str(path)])
    assert any(
        "look like dates (YYYYMMDD)" in w and "--time-format date" in w for w in events.warnings
    )


def test_offset_after_a_space(tmp_path: Path) -> None:
    path = _csv(tmp_path / "t.csv", ["2024-01-05 19:00:00 +0700", "2024-01-05 12:00:00 +00:00"])
    assert _times(path) == [NOON, NOON]


GAP = "2024-03-10 02:30:00"  # America/New_York skips 02:00-03:00: 02:30 is 03:30 EDT = 07:30Z
OVERLAP = "2024-11-03 01:30:00"  # happens twice: the earlier is EDT, 05:30Z


@pytest.mark.parametrize("kind", ["csv", "parquet", "ndjson"])
def test_dst_rules_are_the_same_in_every_format(tmp_path: Path, kind: str) -> None:
    naive = [datetime.fromisoformat(GAP), datetime.fromisoformat(OVERLAP)]
    frame = pl.DataFrame({"user_id": ["u", "v"], "event": ["e", "e"], "timestamp": naive})
    path = tmp_path / f"t.{kind}"
    if kind == "csv":
        _csv(path, [GAP, OVERLAP])
    else:
        getattr(frame, f"write_{kind}")(path)
    assert _times(path, tz="America/New_York") == [
        datetime(2024, 3, 10, 7, 30, tzinfo=UTC),
        datetime(2024, 11, 3, 5, 30, tzinfo=UTC),
    ]


def _one_line(args: list[str], capsys: pytest.CaptureFixture[str], *words: str) -> None:
    code = main(args)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2, err
    assert len(err) == 1, err
    for word in words:
        assert word in err[0], err[0]


def test_microseconds_read_as_milliseconds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "t.parquet"
    pl.DataFrame(
        {"user_id": ["u"], "event": ["e"], "timestamp": [1704456000_000_000]}
    ).write_parquet(path)
    _one_line(
        ["inspect", str(path), "--time-format", "epoch_ms"], capsys, "1704456000000000", "as a time"
    )


def test_epochs_then_iso_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    early = _csv(tmp_path / "early.csv", ["1704456000"] * 3 + ["2024-01-05T12:00:00Z"])
    _one_line(["inspect", str(early)], capsys, "mixes time formats (epoch, iso)")
    # Past the sample the parser chose from, the ISO value is named with its row.
    late = _csv(tmp_path / "late.csv", ["1704456000"] * 2500 + ["2024-01-05T12:00:00Z"])
    _one_line(["inspect", str(late)], capsys, "row 2,501", "2024-01-05T12:00:00Z")


def test_datetime_near_the_int64_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "t.parquet"
    frame = pl.DataFrame({"user_id": ["u", "v"], "event": ["e", "e"], "timestamp": [2**62, 0]})
    frame.with_columns(pl.col("timestamp").cast(pl.Datetime("ms"))).write_parquet(path)
    _one_line(["inspect", str(path)], capsys, str(2**62), "0001..9999")


def test_year_outside_the_range(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _csv(tmp_path / "t.csv", ["-99999999999999", "1704456000"])
    _one_line(["inspect", str(path), "--time-format", "epoch_s"], capsys, "-99999999999999")


def test_tz_shifts_periods_of_zone_aware_times(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 23:30Z on Jan 1 is Jan 2 in Tokyo: the daily lifecycle puts it on the zone's day.
    path = _csv(tmp_path / "t.csv", ["2024-01-01T23:30:00Z"])
    out = tmp_path / "l.json"
    assert (
        main(
            [
                "lifecycle",
                str(path),
                "--period",
                "day",
                "--tz",
                "Asia/Tokyo",
                "-f",
                "json",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    periods = [p["period"] for p in json.loads(out.read_text())["periods"]]
    assert periods[0].startswith("2024-01-02")
