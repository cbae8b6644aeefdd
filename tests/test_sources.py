"""Every input format and time notation gives the same funnel on the same events.

The same small event log is written as CSV, TSV, gzip'd CSV, Parquet, NDJSON and JSONL, as a
folder, a glob and a hive-partitioned folder, with times as ISO-8601 (``Z`` and ``+07:00``),
naive times read in ``--tz``, epoch seconds and milliseconds, and Parquet datetimes with and
without a zone. Each must give the funnel report and the per-unit table of the reference CSV.
Rows without a user or a time are dropped with a warning on stderr.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from typer.testing import CliRunner

from cjkit import api
from cjkit.cli import app
from cjkit.errors import InputError
from cjkit.io import sources

STEPS = ("visit", "signup", "purchase")
BASE = datetime(2025, 1, 1, 10, tzinfo=UTC)
HCM = ZoneInfo("Asia/Ho_Chi_Minh")  # UTC+07:00, no DST

# (user, event, seconds after BASE, channel): conversions, a drop-off, a late step, a repeat.
EVENTS = [
    (1, "visit", 0, "ads"),
    (1, "signup", 600, "ads"),
    (1, "purchase", 3600, "ads"),
    (2, "visit", 60, "seo"),
    (2, "browse", 120, "seo"),
    (3, "visit", 30, "ads"),
    (3, "visit", 7200, "ads"),
    (3, "signup", 7260, "ads"),
    (3, "purchase", 20 * 86400, "ads"),  # after the 14-day window
    (4, "signup", 0, "seo"),
    (5, "visit", 90000, "email"),
    (5, "browse", 90060, "email"),
    (5, "signup", 90120, "email"),
    (5, "purchase", 90180, "email"),
]


def _utc(seconds: int) -> datetime:
    return BASE + timedelta(seconds=seconds)


def frame(time: Callable[[datetime], Any] | None = None) -> pl.DataFrame:
    """Return the events with ``timestamp`` made by ``time`` from the UTC moment."""
    make = time or (lambda t: t)
    return pl.DataFrame(
        {
            "user_id": [u for u, *_ in EVENTS],
            "event": [e for _, e, *_ in EVENTS],
            "timestamp": [make(_utc(s)) for _, _, s, _ in EVENTS],
            "channel": [c for *_, c in EVENTS],
        },
        strict=False,
    )


def iso_z(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_offset(t: datetime) -> str:
    return t.astimezone(HCM).isoformat()  # 2025-01-01T17:00:00+07:00


def naive_local(t: datetime) -> str:
    return t.astimezone(HCM).strftime("%Y-%m-%d %H:%M:%S")


def _result(paths: list[str], tz: str | None = None, **options: Any) -> tuple[Any, Any]:
    opts = api.FunnelOptions(steps=STEPS, by=("channel",), read=api.ReadOptions(tz=tz), **options)
    run = api.funnel(paths, opts)
    doc = run.report.to_dict()
    doc.pop("source")
    doc["settings"].pop("timezone")
    return doc, run.units.sort("user_id").to_dicts()


@pytest.fixture(scope="module")
def expected(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    path = tmp_path_factory.mktemp("ref") / "events.csv"
    frame(iso_z).write_csv(path)
    doc, units = _result([str(path)])
    # The reference itself, computed by hand: 4 users enter, 3 sign up, 2 buy in the window.
    assert [s["count"] for s in doc["steps"]] == [4, 3, 2]
    return doc, units


def _write_csv(df: pl.DataFrame, path: Path, sep: str = ",") -> list[str]:
    df.write_csv(path, separator=sep)
    return [str(path)]


def _write_gzip(df: pl.DataFrame, path: Path) -> list[str]:
    with gzip.open(path, "wb") as fh:
        fh.write(df.write_csv().encode("utf-8"))
    return [str(path)]


def _write_ndjson(df: pl.DataFrame, path: Path) -> list[str]:
    lines = [json.dumps(row, default=str) for row in df.iter_rows(named=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [str(path)]


def _write_parquet(df: pl.DataFrame, path: Path) -> list[str]:
    df.write_parquet(path)
    return [str(path)]


def _split(df: pl.DataFrame, folder: Path, suffix: str, writer: Callable[..., Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, part in enumerate(df.partition_by("user_id", maintain_order=True)):
        writer(part, folder / f"part-{i}{suffix}")


FORMATS: dict[str, Callable[[Path], list[str]]] = {
    "csv": lambda d: _write_csv(frame(iso_z), d / "e.csv"),
    "tsv": lambda d: _write_csv(frame(iso_z), d / "e.tsv", sep="\t"),
    "csv.gz": lambda d: _write_gzip(frame(iso_z), d / "e.csv.gz"),
    "parquet": lambda d: _write_parquet(frame(), d / "e.parquet"),
    "ndjson": lambda d: _write_ndjson(frame(iso_z), d / "e.ndjson"),
    "jsonl": lambda d: _write_ndjson(frame(iso_z), d / "e.jsonl"),
}


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_format_gives_the_same_funnel(
    tmp_path: Path, fmt: str, expected: tuple[Any, Any]
) -> None:
    assert _result(FORMATS[fmt](tmp_path)) == expected


def test_a_folder_of_mixed_files(tmp_path: Path, expected: tuple[Any, Any]) -> None:
    df = frame(iso_z)
    parts = df.partition_by("user_id", maintain_order=True)
    folder = tmp_path / "events"
    folder.mkdir()
    _write_csv(parts[0], folder / "a.csv")
    _write_parquet(
        parts[1].with_columns(pl.col("timestamp").str.to_datetime(time_zone="UTC")),
        folder / "b.parquet",
    )
    _write_ndjson(pl.concat(parts[2:4]), folder / "c.jsonl")
    _write_gzip(parts[4], folder / "d.csv.gz")
    (folder / "_SUCCESS").write_text("", encoding="utf-8")  # ignored, as Spark writes it
    assert _result([str(folder)]) == expected


def test_a_glob(tmp_path: Path, expected: tuple[Any, Any]) -> None:
    _split(frame(), tmp_path / "daily", ".parquet", _write_parquet)
    assert _result([str(tmp_path / "daily" / "*.parquet")]) == expected


def test_a_hive_partitioned_folder(tmp_path: Path, expected: tuple[Any, Any]) -> None:
    df = frame().with_columns(pl.col("timestamp").dt.date().cast(pl.String).alias("date"))
    for (day,), part in df.group_by(["date"], maintain_order=True):
        folder = tmp_path / "lake" / f"date={day}"
        folder.mkdir(parents=True)
        part.drop("date").write_parquet(folder / "part-0.parquet")
    doc, units = _result([str(tmp_path / "lake")])
    assert (doc, units) == expected
    # The partition key is a property like any other.
    by_day = api.funnel(
        [str(tmp_path / "lake")], api.FunnelOptions(steps=STEPS, by=("date",))
    ).report
    assert {g.value: g.steps[0].count for g in by_day.groups} == {"2025-01-01": 3, "2025-01-02": 1}


TIMES: dict[str, tuple[Callable[[Path], list[str]], str | None]] = {
    "iso-z": (lambda d: _write_csv(frame(iso_z), d / "e.csv"), None),
    "iso-offset": (lambda d: _write_csv(frame(iso_offset), d / "e.csv"), None),
    "naive-in-tz": (lambda d: _write_csv(frame(naive_local), d / "e.csv"), "Asia/Ho_Chi_Minh"),
    "epoch-s": (lambda d: _write_csv(frame(lambda t: int(t.timestamp())), d / "e.csv"), None),
    "epoch-ms": (
        lambda d: _write_csv(frame(lambda t: int(t.timestamp() * 1000)), d / "e.csv"),
        None,
    ),
    "parquet-utc": (lambda d: _write_parquet(frame(), d / "e.parquet"), None),
    "parquet-zoned": (
        lambda d: _write_parquet(frame(lambda t: t.astimezone(HCM)), d / "e.parquet"),
        None,
    ),
    "parquet-naive": (
        lambda d: _write_parquet(
            frame(lambda t: t.astimezone(HCM).replace(tzinfo=None)), d / "e.parquet"
        ),
        "Asia/Ho_Chi_Minh",
    ),
    "ndjson-offset": (lambda d: _write_ndjson(frame(iso_offset), d / "e.ndjson"), None),
}


@pytest.mark.parametrize("notation", list(TIMES))
def test_every_time_notation_gives_the_same_funnel(
    tmp_path: Path, notation: str, expected: tuple[Any, Any]
) -> None:
    write, tz = TIMES[notation]
    assert _result(write(tmp_path), tz=tz) == expected


def test_dates_read_as_midnight_in_the_zone(tmp_path: Path) -> None:
    rows = pl.DataFrame(
        {
            "user_id": [1, 1, 2, 2],
            "event": ["visit", "signup", "visit", "signup"],
            "timestamp": ["2025-01-01", "2025-01-03", "2025-01-01", "2025-01-20"],
        }
    )
    rows.write_csv(tmp_path / "days.csv")
    iso = rows.with_columns(pl.col("timestamp") + "T00:00:00+07:00")
    iso.write_csv(tmp_path / "iso.csv")
    read = api.ReadOptions(tz="Asia/Ho_Chi_Minh")
    by_day = api.funnel(
        [str(tmp_path / "days.csv")], api.FunnelOptions(steps=("visit", "signup"), read=read)
    )
    by_iso = api.funnel([str(tmp_path / "iso.csv")], api.FunnelOptions(steps=("visit", "signup")))
    assert [s.count for s in by_day.report.steps] == [2, 1]
    assert by_day.units.to_dicts() == by_iso.units.to_dicts()


def test_rows_without_user_or_time_are_dropped_with_a_warning(
    tmp_path: Path, runner: CliRunner, expected: tuple[Any, Any]
) -> None:
    df = frame(iso_z).with_columns(pl.col("user_id").cast(pl.String), pl.col("timestamp"))
    extra = pl.DataFrame(
        {
            "user_id": [None, "9", None],
            "event": ["visit", "visit", "signup"],
            "timestamp": ["2025-01-01T10:00:00Z", None, None],
            "channel": ["ads", "ads", "ads"],
        }
    )
    path = tmp_path / "holes.csv"
    pl.concat([df, extra]).write_csv(path)
    doc, _ = _result([str(path)])
    assert doc["steps"] == expected[0]["steps"]
    run = api.funnel([str(path)], api.FunnelOptions(steps=STEPS))
    assert len(run.warnings) == 1
    assert run.warnings[0].startswith(
        "dropped 3 row(s) with no unit or no time (2 without a unit, 1 without a time); that is "
    )  # 3 of 7 rows: over 5%, so the share is named (issue 12)
    result = runner.invoke(app, ["funnel", str(path), "-s", "visit", "-s", "signup", "-f", "json"])
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        "Warning: dropped 3 row(s) with no unit or no time (2 without a unit, 1 without a time)"
    )
    assert json.loads(result.stdout)["steps"][0]["count"] == 4


def test_column_flags_rename_the_inputs(tmp_path: Path, expected: tuple[Any, Any]) -> None:
    renamed = frame(iso_z).rename({"user_id": "customer", "event": "name", "timestamp": "ts"})
    renamed.write_csv(tmp_path / "crm.csv")
    read = api.ReadOptions(user_col="customer", event_col="name", time_col="ts")
    run = api.funnel(
        [str(tmp_path / "crm.csv")], api.FunnelOptions(steps=STEPS, by=("channel",), read=read)
    )
    doc = run.report.to_dict()
    doc.pop("source")
    doc["settings"].pop("timezone")
    assert doc == expected[0]
    assert run.units.columns[0] == "customer"


@pytest.mark.parametrize("zone", ["Z", ""], ids=["utc", "naive"])
def test_other_iso_shapes_after_the_sample_still_read(tmp_path: Path, zone: str) -> None:
    """The sample's shape is parsed directly; later rows in another ISO shape take the
    general path instead of failing (fractions, a space, padding, an offset)."""
    n = 2_500  # more than the 2,000 sampled values
    common = [f"2025-01-01T10:{i // 60 % 60:02d}:{i % 60:02d}{zone}" for i in range(n)]
    odd = ["2025-01-02T10:00:00.250", " 2025-01-02 10:00:01", "2025-01-02T10:00:02"]
    odd = [v + zone for v in odd]
    if zone:
        odd.append("2025-01-02T17:00:03+07:00")
    times = common + odd
    rows = pl.DataFrame(
        {
            "user_id": list(range(len(times))),
            "event": ["visit"] * len(times),
            "timestamp": times,
        }
    )
    path = tmp_path / "shapes.csv"
    rows.write_csv(path)
    read = sources.read([str(path)])
    got = read.clean().select("timestamp").collect()["timestamp"]
    assert got.null_count() == 0
    tail = [t.replace(tzinfo=None) for t in got.tail(len(odd)).to_list()]
    assert tail == [
        datetime(2025, 1, 2, 10, 0, 0, 250_000),
        datetime(2025, 1, 2, 10, 0, 1),
        datetime(2025, 1, 2, 10, 0, 2),
        *([datetime(2025, 1, 2, 10, 0, 3)] if zone else []),
    ]
    assert sources.quality(read).collect().row(0, named=True)["bad_time"] == 0


def test_a_blank_time_is_missing_and_a_bad_one_is_named(tmp_path: Path) -> None:
    good = [f"2025-01-01T10:00:{i % 60:02d}Z" for i in range(2_100)]
    rows = pl.DataFrame(
        {
            "user_id": list(range(2_103)),
            "event": ["visit"] * 2_103,
            "timestamp": [*good, "   ", "2025-13-01T00:00:00Z", None],
        }
    )
    path = tmp_path / "holes.csv"
    rows.write_csv(path)
    read = sources.read([str(path)])
    quality = sources.quality(read).collect().row(0, named=True)
    assert quality["null_time"] == 2
    assert quality["bad_time"] == 1
    assert quality["first_bad"] == "2025-13-01T00:00:00Z"
    with pytest.raises(InputError, match=r"row 2,102: can't read '2025-13-01T00:00:00Z'"):
        sources.raise_for_quality(read, quality)
