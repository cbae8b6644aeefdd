"""Say what and where (issue 19 items 4 and 8, issue 12 item 2):

* breakdowns with many values are folded in tables and Markdown (50 by default, the rest one
  ``(other)`` row whose counts add up), with one line that says so; JSON keeps every value
  unless ``--top`` is given; 200k values finish in bounded time;
* binary, UTF-16 and Latin-1 inputs say what they are, naming the file, exit 2;
* a corrupt file among several is named, by every command;
* ``validate --data`` places each problem at the line and column of the key it is about.
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from deadline import deadline

from cjkit.cli import main
from cjkit.io import sniff

HEADER = "user_id,event,timestamp\n"
GOOD = (
    HEADER
    + "1,visit,2025-01-01T00:00:00Z\n1,signup,2025-01-02T00:00:00Z\n2,visit,2025-01-03T00:00:00Z\n"
)
FOLD_LINE = (
    "showing 50 of 200,000 channel values, the rest as (other); --top N or --format json for all"
)


@pytest.fixture(scope="module")
def wide(tmp_path_factory: pytest.TempPathFactory) -> str:
    """200,000 units, each with its own channel; the first half sign up a week later."""
    n = 200_000
    ids = pl.int_range(n, eager=True).cast(pl.String)
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    visits = pl.DataFrame(
        {"user_id": "u" + ids, "event": "visit", "timestamp": t0, "channel": "c" + ids}
    )
    signups = visits.head(n // 2).with_columns(
        pl.lit("signup").alias("event"), pl.lit(t0 + timedelta(days=8)).alias("timestamp")
    )
    path = tmp_path_factory.mktemp("wide") / "wide.parquet"
    pl.concat([visits, signups]).write_parquet(path)
    return str(path)


@pytest.fixture(scope="module")
def two_stage_map(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("map") / "m.yaml"
    path.write_text(
        "id: m\nname: M\nstages:\n"
        "  - {id: visit, name: Visit, events: [visit]}\n"
        "  - {id: signup, name: Signup, events: [signup]}\n",
        encoding="utf-8",
    )
    return str(path)


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with deadline(120):
        code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def _funnel_blocks(text: str) -> dict[str, list[int]]:
    """Return the step counts of each ``channel = VALUE`` table of a funnel's text output."""
    blocks: dict[str, list[int]] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("channel = "):
            current = line.split("=", 1)[1].strip()
            blocks[current] = []
        elif current and line.strip()[:1].isdigit() and ("visit" in line or "signup" in line):
            blocks[current].append(int(line.split()[2].replace(",", "")))
    return blocks


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_funnel_by_200k_values_is_folded(
    wide: str, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["funnel", wide, "-s", "visit", "-s", "signup", "--by", "channel", "-f", fmt]
    code, out, err = _run(args, capsys)
    assert code == 0, err
    assert out.rstrip().splitlines()[-1] == (FOLD_LINE if fmt == "table" else f"_{FOLD_LINE}_")
    if fmt == "table":
        blocks = _funnel_blocks(out)
        assert len(blocks) == 51
        # (other) adds up: every unit is in exactly one of the 51 segments.
        assert sum(b[0] for b in blocks.values()) == 200_000
        assert sum(b[1] for b in blocks.values()) == 100_000
        kept_signups = sum(b[1] for v, b in blocks.items() if v != "(other)")
        assert blocks["(other)"] == [199_950, 100_000 - kept_signups]


@pytest.mark.slow  # 200k breakdown values: about 30 s each
def test_funnel_json_keeps_every_value_unless_top(
    wide: str, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["funnel", wide, "-s", "visit", "-s", "signup", "--by", "channel", "-f", "json"]
    code, out, err = _run(base, capsys)
    assert code == 0, err
    doc = json.loads(out)
    assert len(doc["breakdown"]["groups"]) == 200_000
    assert "breakdown_other" not in doc
    code, out, err = _run([*base, "--top", "3"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    groups = {g["value"]: g["steps"] for g in doc["breakdown"]["groups"]}
    assert len(groups) == 4
    other = groups["(other)"]
    assert other[0]["count"] == 199_997
    # The rate of (other) comes from its own counts, not an average of the segments' rates.
    assert other[1]["conversion_from_previous"] == pytest.approx(
        other[1]["count"] / other[0]["count"]
    )
    assert doc["breakdown_other"] == {
        "top": 3,
        "folded_segments": 199_997,
        "folded_units": 199_997,
        "values": 200_000,
        "by": ["channel"],
    }


def test_retention_by_200k_values_is_folded(wide: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["retention", wide, "--by", "channel"], capsys)
    assert code == 0, err
    assert out.rstrip().splitlines()[-1] == FOLD_LINE
    assert out.count("channel = ") == 51
    assert "channel = (other)" in out
    code, out, err = _run(
        ["retention", wide, "--by", "channel", "--top", "2", "-f", "json"], capsys
    )
    assert code == 0, err
    doc = json.loads(out)
    groups = doc["breakdown"]["groups"]
    assert len(groups) == 3
    assert sum(g["cohorts"][0]["size"] for g in groups) == 200_000
    assert doc["breakdown_other"]["folded_segments"] == 199_998


@pytest.mark.slow  # 200k breakdown values: about 30 s each
def test_metrics_by_200k_values_is_folded(
    wide: str, two_stage_map: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(["metrics", wide, "--model", two_stage_map, "--by", "channel"], capsys)
    assert code == 0, err
    assert out.rstrip().splitlines()[-1] == FOLD_LINE
    assert " (other)   199,950      50.0% " in out
    code, out, err = _run(
        ["metrics", wide, "--model", two_stage_map, "--by", "channel", "-f", "json"], capsys
    )
    assert code == 0, err
    doc = json.loads(out)
    assert doc["breakdowns"][0]["by"] == "channel"
    assert len(doc["breakdowns"][0]["groups"]) == 200_000


def test_top_must_be_positive(wide: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(["retention", wide, "--by", "channel", "--top", "0"], capsys)
    assert code == 2
    assert err.strip() == "Error: --top: expected a whole number of at least 1, got 0"


# --- binary and non-UTF-8 input -------------------------------------------------------------

UTF8 = "re-save it as UTF-8 (iconv -t UTF-8)"
ENCODED = [
    ("r.csv", bytes(range(256)) * 8, "looks binary, not text (8 NUL bytes in the first 2,048)"),
    (
        "u.csv",
        GOOD.encode("utf-16"),
        f"not UTF-8 text (looks like UTF-16 LE with a byte-order mark); {UTF8}",
    ),
    (
        "le.csv",
        GOOD.encode("utf-16-le"),
        f"not UTF-8 text (looks like UTF-16 LE without a byte-order mark); {UTF8}",
    ),
    (
        "be.ndjson",
        '{"user_id": "1", "event": "a", "timestamp": "2025-01-01"}\n'.encode("utf-16-be"),
        f"not UTF-8 text (looks like UTF-16 BE without a byte-order mark); {UTF8}",
    ),
    (
        "l.csv",
        (HEADER + "1,caf\xe9,2025-01-01T00:00:00Z\n").encode("latin-1"),
        f"not UTF-8 text (byte 0xe9 on line 2; looks like Latin-1 or Windows-1252); {UTF8}",
    ),
    (
        "w.csv",
        (HEADER + "1,\u201cq\u201d,2025-01-01T00:00:00Z\n").encode("cp1252"),
        f"not UTF-8 text (byte 0x93 on line 2; looks like Windows-1252); {UTF8}",
    ),
    (
        "u16.csv.gz",
        gzip.compress(GOOD.encode("utf-16")),
        f"not UTF-8 text (looks like UTF-16 LE with a byte-order mark); {UTF8}",
    ),
    (
        "zipped.csv",
        gzip.compress(GOOD.encode()),
        "looks binary, not text: is it gzip'd? Name it .csv.gz (or .ndjson.gz)",
    ),
]


@pytest.mark.parametrize(("name", "content", "found"), ENCODED, ids=[e[0] for e in ENCODED])
@pytest.mark.parametrize("command", ["inspect", "funnel", "retention"])
def test_non_utf8_input_says_what_it_is(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    content: bytes,
    found: str,
    command: str,
) -> None:
    good = tmp_path / "good.csv"
    good.write_text(GOOD, encoding="utf-8")
    bad = tmp_path / name
    bad.write_bytes(content)
    extra = ["-s", "visit", "-s", "signup"] if command == "funnel" else []
    code, _, err = _run([command, str(good), str(bad), *extra], capsys)
    assert code == 2
    assert err.strip() == f"Error: {bad}: {found}"


@pytest.mark.parametrize("name", ["late.csv", "late.csv.gz"])
def test_non_utf8_byte_after_the_sniff_is_placed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    # 2 MB of UTF-8 (multibyte characters across the 1 MB chunks), then one Latin-1 byte.
    text = HEADER + "1,caf\u00e9 \u2603,2025-01-01T00:00:00Z\n" * 60_000
    data = text.encode("utf-8") + "2,caf\xe9,2025-01-02T00:00:00Z\n".encode("latin-1")
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    at = len(text.encode("utf-8")) + len("2,caf")
    code, _, err = _run(["funnel", str(path), "-s", "visit", "-s", "signup"], capsys)
    assert code == 2
    assert err.strip() == (
        f"Error: {path}: not UTF-8 text (byte 0xe9 on line 60,002, at byte {at:,}; "
        f"looks like Latin-1 or Windows-1252); {UTF8}"
    )


def test_parquet_with_a_csv_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "events.csv"
    pl.DataFrame({"user_id": ["1"], "event": ["a"], "timestamp": ["2025-01-01"]}).write_parquet(
        path
    )
    code, _, err = _run(["inspect", str(path)], capsys)
    assert code == 2
    assert err.strip() == (
        f"Error: {path}: looks binary, not text: is it a Parquet file with a text name? "
        "Rename it .parquet or pass --input-format"
    )


def test_csv_with_a_parquet_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.csv"
    good.write_text(GOOD, encoding="utf-8")
    path = tmp_path / "events.parquet"
    path.write_text(GOOD, encoding="utf-8")
    code, _, err = _run(["funnel", str(good), str(path), "-s", "visit", "-s", "signup"], capsys)
    assert code == 2
    assert err.strip() == (
        f"Error: {path}: not a Parquet file (it does not start with PAR1): is it CSV or JSON "
        "with a .parquet name? Rename it or pass --input-format"
    )


def test_utf16_on_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from cjkit.io import files

    monkeypatch.setitem(files._stdin_cache, files.STDIN, GOOD.encode("utf-16"))
    code, _, err = _run(["inspect", "-"], capsys)
    assert code == 2
    assert err.strip() == (
        f"Error: standard input: not UTF-8 text (looks like UTF-16 LE with a byte-order mark); "
        f"{UTF8}"
    )


@pytest.mark.parametrize(
    "text",
    [
        GOOD,
        "\ufeff" + GOOD,  # UTF-8 with a byte-order mark is UTF-8
        HEADER + "1,caf\u00e9 \u2603 \U0001f600,2025-01-01T00:00:00Z\n" * 600,  # cut mid-character
        HEADER + "1,a\tb\x0c,2025-01-01T00:00:00Z\n",
    ],
)
def test_text_passes_the_sniff(text: str) -> None:
    data = text.encode("utf-8")
    assert sniff.describe(data[: sniff.SNIFF_BYTES]) is None


# --- the file that can't be read is named, among several ------------------------------------


def _corrupt_parquet(path: Path) -> Path:
    n = 5000
    pl.DataFrame(
        {
            "user_id": [str(i) for i in range(n)],
            "event": ["visit"] * n,
            "timestamp": ["2025-01-01T00:00:00Z"] * n,
        }
    ).write_parquet(path, compression="uncompressed")
    data = bytearray(path.read_bytes())
    data[100 : len(data) // 2] = b"\xff" * (len(data) // 2 - 100)
    path.write_bytes(bytes(data))
    return path


COMMANDS = {
    "inspect": [],
    "funnel": ["-s", "visit", "-s", "signup"],
    "retention": [],
    "lifecycle": [],
    "stickiness": [],
    "metrics": ["--model", "MAP"],
    "check": ["--model", "MAP"],
    "paths": [],
    "clv": ["--purchase-event", "signup"],
    "diagnose": ["--model", "MAP"],
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_corrupt_file_among_several_is_named(
    tmp_path: Path, two_stage_map: str, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    good = tmp_path / "good.csv"
    good.write_text(GOOD, encoding="utf-8")
    bad = _corrupt_parquet(tmp_path / "bad.parquet")
    extra = [two_stage_map if a == "MAP" else a for a in COMMANDS[command]]
    code, _, err = _run([command, str(good), str(bad), *extra], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert lines[-1].startswith(f"Error: {bad}: can't read the events: parquet: "), err
    assert "Traceback" not in err


def test_validate_data_names_the_corrupt_file(
    tmp_path: Path, two_stage_map: str, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = _corrupt_parquet(tmp_path / "bad.parquet")
    code, _, err = _run(["validate", two_stage_map, "--data", str(bad)], capsys)
    assert code == 2
    assert err.strip().startswith(f"Error: {bad}: can't read the events: parquet: ")


# --- validate --data: each problem at its key ----------------------------------------------

MAP = """\
id: vm
name: VM
segments:
  - channel
  - device
stages:
  - id: visit
    name: Visit
    events:
      - visit
      - name: signup
        where:
          plan: pro
  - id: buy
    name: Buy
    kind: revenue
    amount: price
    events: [purchse, "signup|refund"]
"""


def test_validate_data_problems_carry_their_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("vm.yaml").write_text(MAP, encoding="utf-8")
    Path("events.csv").write_text(GOOD, encoding="utf-8")
    code, out, err = _run(["validate", "vm.yaml", "--data", "events.csv", "-f", "github"], capsys)
    assert code == 1, err
    assert out.splitlines() == [
        "::error file=vm.yaml,line=4,col=5,title=cjkit validate::segments: no column 'channel' "
        "in the data (columns: )",
        "::error file=vm.yaml,line=5,col=5,title=cjkit validate::segments: no column 'device' "
        "in the data (columns: )",
        "::error file=vm.yaml,line=13,col=11,title=cjkit validate::stages.visit.events: "
        "no column 'plan' in the data (columns: )",
        "::error file=vm.yaml,line=17,col=5,title=cjkit validate::stages.buy.amount: "
        "no column 'price' in the data (columns: )",
        "::warning file=vm.yaml,line=18,col=14,title=cjkit validate::stages.buy.events: "
        "event 'purchse' never occurs in the data",
        "::warning file=vm.yaml,line=18,col=23,title=cjkit validate::stages.buy.events: "
        "event 'refund' never occurs in the data",
    ]
    code, out, err = _run(["validate", "vm.yaml", "--data", "events.csv"], capsys)
    assert code == 1
    where = [line.split()[0] for line in out.splitlines() if line.strip().startswith("vm.yaml:")]
    assert where == [
        "vm.yaml:4:5",
        "vm.yaml:5:5",
        "vm.yaml:13:11",
        "vm.yaml:17:5",
        "vm.yaml:18:14",
        "vm.yaml:18:23",
    ]


def test_validate_data_points_into_the_map_a_key_comes_from(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("ext.yaml").write_text("extends: aarrr\nstages:\n  revenue:\n    amount: price\n")
    Path("events.csv").write_text(GOOD, encoding="utf-8")
    code, out, err = _run(["validate", "ext.yaml", "--data", "events.csv", "-f", "json"], capsys)
    assert code == 1, err
    problems = {p["key"]: p for p in json.loads(out)["files"][0]["problems"]}
    assert (
        problems["stages.revenue.amount"]["file"],
        problems["stages.revenue.amount"]["line"],
    ) == (
        "ext.yaml",
        4,
    )
    # Keys the map inherits point into the built-in model, at their own line, not 1:1.
    inherited = problems["stages.revenue.events"]
    assert inherited["file"].endswith("aarrr.yaml")
    assert inherited["line"] > 1
