"""Columns: identifiers are text in every format, schema conflicts name both files, another
unit column next to user_id, quoted event names, stdin, and dotted paths wherever a column
name goes."""

from __future__ import annotations

import io
import json
import sys
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
from budget import budget
from hypothesis import given, settings
from hypothesis import strategies as st

from cjkit.cli import main
from cjkit.io import files, sources


def _units(paths: list[Path], **kw: str) -> list[str]:
    events = sources.read([str(p) for p in paths], sources.ColumnMap(**kw))
    return sorted(events.clean().select(sources.USER).unique().collect().to_series().to_list())


def _json(args: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    code = main([*args, "-f", "json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out)  # type: ignore[no-any-return]


def _one_line(args: list[str], capsys: pytest.CaptureFixture[str], *words: str) -> None:
    code = main(args)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2, err
    assert len(err) == 1, err
    for word in words:
        assert word in err[0], err[0]


IDS = ["007", "7", "0007", "1.10", "1.1"]


@pytest.mark.parametrize("kind", ["csv", "ndjson", "parquet"])
def test_ids_are_text(tmp_path: Path, kind: str) -> None:
    frame = pl.DataFrame({"user_id": IDS, "event": ["e"] * 5, "timestamp": ["2024-01-01"] * 5})
    path = tmp_path / f"t.{kind}"
    getattr(frame, f"write_{kind}")(path)
    assert _units([path]) == sorted(IDS)


def test_int_ids_match_string_ids(tmp_path: Path) -> None:
    pl.DataFrame(
        {"user_id": [7, 8], "event": ["a", "a"], "timestamp": ["2024-01-01"] * 2}
    ).write_parquet(tmp_path / "a.parquet")
    (tmp_path / "b.csv").write_text("user_id,event,timestamp\n7,b,2024-01-02\nx,b,2024-01-02\n")
    assert _units([tmp_path / "a.parquet", tmp_path / "b.csv"]) == ["7", "8", "x"]


def test_late_non_numeric_ids_are_read(tmp_path: Path) -> None:
    rows = [f"{i},e,2024-01-01" for i in range(12_000)] + ["abc,e,2024-01-01"]
    path = tmp_path / "t.csv"
    path.write_text("user_id,event,timestamp\n" + "\n".join(rows) + "\n")
    units = _units([path])
    assert len(units) == 12_001
    assert "abc" in units


def test_schema_conflict_names_both_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = {"user_id": ["u"], "event": ["e"], "timestamp": ["2024-01-01"]}
    pl.DataFrame({**base, "price": [1.5]}).write_ndjson(tmp_path / "a.ndjson")
    pl.DataFrame({**base, "price": [{"amount": 1.5}]}).write_ndjson(tmp_path / "b.ndjson")
    _one_line(
        ["inspect", str(tmp_path / "a.ndjson"), str(tmp_path / "b.ndjson")],
        capsys,
        "column 'price'",
        "a.ndjson",
        "b.ndjson",
        "Float64",
        "Struct",
    )


def test_other_unit_column_next_to_user_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        "amplitude_id,user_id,event,timestamp\n1,,visit,2024-01-01\n1,alice,buy,2024-01-02\n"
        "2,,visit,2024-01-01\n"
    )
    report = _json(
        [
            "funnel",
            str(path),
            "--user-col",
            "amplitude_id",
            "-s",
            "visit",
            "-s",
            "buy",
            "--by",
            "user_id_in_file",
        ],
        capsys,
    )
    assert [s["count"] for s in report["steps"]] == [2, 1]  # type: ignore[index, union-attr]


def test_quoted_and_exact_step_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        "user_id,event,timestamp\nu,[Amplitude] Page Viewed,2024-01-01\nu,a|b,2024-01-02\n"
    )
    quoted = _json(["funnel", str(path), "-s", '"[Amplitude] Page Viewed"', "-s", '"a|b"'], capsys)
    exact = _json(
        ["funnel", str(path), "--step-exact", "-s", "[Amplitude] Page Viewed", "-s", "a|b"], capsys
    )
    assert [s["count"] for s in quoted["steps"]] == [1, 1]  # type: ignore[index, union-attr]
    assert [s["count"] for s in exact["steps"]] == [1, 1]  # type: ignore[index, union-attr]


@pytest.mark.parametrize(
    ("data", "flags"),
    [
        (b"user_id,event,timestamp\nu,a,2024-01-01\nu,b,2024-01-02\nv,a,2024-01-01\n", []),
        (
            b'{"user_id":"u","event":"a","timestamp":"2024-01-01"}\n'
            b'{"user_id":"u","event":"b","timestamp":"2024-01-02"}\n'
            b'{"user_id":"v","event":"a","timestamp":"2024-01-01"}\n',
            ["--input-format", "ndjson"],
        ),
    ],
)
def test_stdin(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    data: bytes,
    flags: list[str],
) -> None:
    files._stdin_cache.clear()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    report = _json(["funnel", "-", "-s", "a", "-s", "b", *flags], capsys)
    files._stdin_cache.clear()
    assert [s["count"] for s in report["steps"]] == [2, 1]  # type: ignore[index, union-attr]


def _nested(tmp_path: Path) -> Path:
    rows = [
        {
            "userId": "u1",
            "event": "visit",
            "timestamp": "2024-01-01T00:00:00Z",
            "context": {"campaign": {"source": "google"}},
            "properties": {"plan": "pro", "revenue": 5.0},
        },
        {
            "userId": "u1",
            "event": "buy",
            "timestamp": "2024-01-02T00:00:00Z",
            "context": {"campaign": {"source": "google"}},
            "properties": {"plan": "pro", "revenue": 30.0},
        },
        {
            "userId": "u2",
            "event": "visit",
            "timestamp": "2024-01-01T00:00:00Z",
            "context": {"campaign": {"source": "bing"}},
            "properties": {"plan": "free", "revenue": None},
        },
    ]
    path = tmp_path / "n.ndjson"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_dotted_paths_in_by_and_step_filters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _nested(tmp_path)
    report = _json(
        [
            "funnel",
            str(path),
            "--user-col",
            "userId",
            "-s",
            "visit",
            "-s",
            "buy[properties.plan=pro]",
            "--by",
            "context.campaign.source",
        ],
        capsys,
    )
    groups = {g["value"]: [s["count"] for s in g["steps"]] for g in report["breakdown"]["groups"]}  # type: ignore[index]
    assert groups == {"bing": [1, 0], "google": [1, 1]}


def test_dotted_paths_in_a_map(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _nested(tmp_path)
    spec = tmp_path / "m.yaml"
    spec.write_text(
        "extends: aarrr\n"
        "data: {user: userId, revenue: {exclude: {properties.plan: [free]}}}\n"
        "segments: [context.campaign.source]\n"
        "stages:\n"
        "  acquisition: {events: [visit], channel: context.campaign.source}\n"
        "  revenue: {events: [buy, visit], amount: properties.revenue, currency: null, order_id: null}\n"
    )
    report = _json(["metrics", str(path), "--model", str(spec)], capsys)
    stages = {s["id"]: s for s in report["stages"]}  # type: ignore[union-attr, index]
    assert stages["revenue"]["metrics"]["revenue"] == 35.0  # type: ignore[index]


def test_dotted_user_column_in_json_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        'event,properties,timestamp\nvisit,"{""who"": ""007""}",2024-01-01\n'
        'visit,"{""who"": ""7""}",2024-01-01\n'
    )
    report = _json(["inspect", str(path), "--user-col", "properties.who"], capsys)
    assert report["units"] == 2


def test_unknown_path_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _nested(tmp_path)
    _one_line(
        [
            "funnel",
            str(path),
            "--user-col",
            "userId",
            "-s",
            "visit",
            "-s",
            "buy",
            "--by",
            "context.nope",
        ],
        capsys,
        "no column 'context.nope'",
    )


@st.composite
def _events(draw: st.DrawFn) -> pl.DataFrame:
    ids = st.text(alphabet="0179.ab", min_size=1, max_size=5)
    # Around both 2024 New York transitions, so gaps and overlaps come up.
    times = st.sampled_from(["2024-03-10", "2024-11-03"]).flatmap(
        lambda day: st.tuples(st.integers(0, 3), st.integers(0, 59)).map(
            lambda hm: datetime.fromisoformat(f"{day}T{hm[0]:02d}:{hm[1]:02d}:00")
        )
    )
    rows = draw(
        st.lists(st.tuples(ids, st.sampled_from(["a", "b"]), times), min_size=1, max_size=20)
    )
    return pl.DataFrame(rows, schema=["user_id", "event", "timestamp"], orient="row")


@settings(max_examples=budget(0.5))  # three files written and read per example
@given(_events())
def test_same_events_in_every_format(
    tmp_path_factory: pytest.TempPathFactory, frame: pl.DataFrame
) -> None:
    folder = tmp_path_factory.mktemp("fmt")
    text = frame.with_columns(pl.col("timestamp").dt.strftime("%Y-%m-%d %H:%M:%S"))
    text.write_csv(folder / "e.csv")
    text.write_ndjson(folder / "e.ndjson")
    frame.write_parquet(folder / "e.parquet")
    seen = []
    for name in ("e.csv", "e.ndjson", "e.parquet"):
        events = sources.read([str(folder / name)], sources.ColumnMap(tz="America/New_York"))
        seen.append(
            sorted(
                events.clean()
                .select(sources.USER, sources.EVENT, sources.TIME)
                .collect()
                .iter_rows()
            )
        )
    assert seen[0] == seen[1] == seen[2]
    assert sorted(u for u, _, _ in seen[0]) == sorted(frame["user_id"].to_list())
