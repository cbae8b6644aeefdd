"""Bad input across commands: each ends in ONE line on stderr, exit 2, no traceback, no file.

The table below is the contract of issue 5. Each case builds its inputs in a temporary folder,
runs ``cjkit`` through ``cli.main`` (so typer's own usage errors are covered too), and checks
the exit code, that stderr is exactly one ``Error: …`` line containing the expected words, and
that the ``-o`` target (and no temporary file) was left behind.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

from cjkit.cli import main

SHOP = Path(__file__).resolve().parents[1] / "examples" / "shop" / "events.parquet"
HEADER = "user_id,event,timestamp\n"
GOOD = HEADER + "1,visit,2025-01-01T00:00:00Z\n1,signup,2025-01-02T00:00:00Z\n2,visit,2025-01-03T00:00:00Z\n"


def _write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _parquet(path: Path) -> Path:
    pl.DataFrame(
        {"user_id": [1, 1], "event": ["visit", "signup"], "timestamp": ["2025-01-01T00:00:00Z"] * 2}
    ).write_parquet(path)
    return path


@dataclass(frozen=True)
class Case:
    id: str
    make: Callable[[Path], list[str]]
    expect: str
    code: int = 2


def funnel(*extra: str) -> list[str]:
    return ["funnel", *extra]


CASES = [
    Case("missing path", lambda d: funnel(str(d / "nope.csv"), "-s", "a", "-s", "b"), "nope.csv: no such file or folder"),
    Case("glob matches nothing", lambda d: funnel(str(d / "*.parquet"), "-s", "a", "-s", "b"), "the pattern matches no event files"),
    Case(
        "folder with no data",
        lambda d: (d / "empty").mkdir() or funnel(str(d / "empty"), "-s", "a", "-s", "b"),
        "the folder holds no event files",
    ),
    Case(
        "truncated parquet",
        lambda d: [
            "inspect",
            str(_write(d / "t.parquet", _parquet(d / "ok.parquet").read_bytes()[:200])),
        ],
        "t.parquet: can't read the file",
    ),
    Case(
        "ragged csv row",
        lambda d: funnel(str(_write(d / "r.csv", GOOD + "3,visit,2025-01-04T00:00:00Z,extra\n")), "-s", "visit", "-s", "signup"),
        "r.csv: line 5 has 4 fields, the header has 3",
    ),
    Case(
        "non-utf8 csv",
        lambda d: funnel(str(_write(d / "l.csv", (HEADER + "1,caf\xe9,2025-01-01T00:00:00Z\n").encode("latin-1"))), "-s", "a", "-s", "b"),
        "l.csv: not UTF-8 text (byte 0xe9 on line 2; looks like Latin-1 or Windows-1252)",
    ),
    Case(
        "missing column",
        lambda d: funnel(str(_write(d / "m.csv", GOOD)), "-s", "a", "-s", "b", "--user-col", "customer"),
        "m.csv: no user column 'customer' (columns: user_id, event, timestamp)",
    ),
    Case(
        "all timestamps null",
        lambda d: funnel(str(_write(d / "n.csv", HEADER + "1,visit,\n2,signup,\n")), "-s", "visit", "-s", "signup"),
        "the time column 'timestamp' is empty",
    ),
    Case(
        "mixed time formats",
        lambda d: funnel(str(_write(d / "x.csv", GOOD + "3,visit,01/05/2025\n")), "-s", "visit", "-s", "signup"),
        "can't read '01/05/2025' in column 'timestamp' as a time",
    ),
    Case(
        "impossible date",
        lambda d: funnel(str(_write(d / "i.csv", GOOD + "3,visit,2025-02-30T00:00:00Z\n")), "-s", "visit", "-s", "signup"),
        "i.csv: row 4: can't read '2025-02-30T00:00:00Z' as a time",
    ),
    Case("empty file", lambda d: funnel(str(_write(d / "e.csv", "")), "-s", "a", "-s", "b"), "e.csv: the file is empty"),
    Case(
        "header-only file",
        lambda d: funnel(str(_write(d / "h.csv", HEADER)), "-s", "a", "-s", "b"),
        "h.csv: no events (the file has a header but no rows)",
    ),
    Case(
        "duplicate column name",
        lambda d: funnel(str(_write(d / "d.csv", "user_id,event,timestamp,event\n1,a,2025-01-01T00:00:00Z,b\n")), "-s", "a", "-s", "b"),
        "d.csv: duplicate column name 'event' in the header",
    ),
    Case(
        "unknown model",
        lambda d: funnel(str(_write(d / "g.csv", GOOD)), "--model", "aarr"),
        "unknown model 'aarr'",
    ),
    Case(
        "bad window",
        lambda d: funnel(str(_write(d / "g.csv", GOOD)), "-s", "a", "-s", "b", "--window", "7days"),
        "--window: expected a duration such as 30s, 15m, 2h, 7d or 2w, got '7days'",
    ),
    Case(
        "zero window",
        lambda d: funnel(str(_write(d / "g.csv", GOOD)), "-s", "a", "-s", "b", "--window", "0d"),
        "--window: a duration must be at least 1s, got '0d'",
    ),
    Case(
        "negative window",
        lambda d: funnel(str(_write(d / "g.csv", GOOD)), "-s", "a", "-s", "b", "--window=-1d"),
        "--window: expected a duration",
    ),
    Case(
        "window that rounds to zero",
        lambda d: funnel(str(_write(d / "g.csv", GOOD)), "-s", "a", "-s", "b", "--window", "0.4s"),
        "--window: a duration must be at least 1s, got '0.4s'",
    ),
    Case(
        "strict increase with any order",
        lambda d: funnel(str(_write(d / "g.csv", GOOD)), "-s", "a", "-s", "b", "--order", "any", "--strict-increase"),
        "--strict-increase applies to ordered and strict funnels",
    ),
    Case(
        "bad since",
        lambda d: funnel(str(_write(d / "g.csv", GOOD)), "-s", "a", "-s", "b", "--since", "yesterday"),
        "--since: can't read 'yesterday' as a date or time",
    ),
    Case(
        "until before since",
        lambda d: funnel(str(_write(d / "g.csv", GOOD)), "-s", "a", "-s", "b", "--since", "2025-02-01", "--until", "2025-01-01"),
        "--until (2025-01-01) is before --since (2025-02-01)",
    ),
    Case(
        "unknown format",
        lambda d: funnel(str(_write(d / "g.csv", GOOD)), "-s", "a", "-s", "b", "--format", "xml"),
        "--format: expected one of table, json, csv, markdown",
    ),
    Case(
        "output into a missing folder",
        lambda d: funnel(str(_write(d / "g.csv", GOOD)), "-s", "visit", "-s", "signup", "-o", str(d / "no" / "out.json")),
        "out.json: the folder",
    ),
    Case(
        "unwritable output",
        lambda d: funnel(str(_write(d / "g.csv", GOOD)), "-s", "visit", "-s", "signup", "-o", str(_write(d / "file.txt", "x") / "out.json")),
        "is not a folder",
    ),
    Case(
        "one step only",
        lambda d: funnel(str(_write(d / "g.csv", GOOD)), "-s", "visit"),
        "a funnel needs at least two steps, got 1",
    ),
    Case("no steps", lambda d: funnel(str(_write(d / "g.csv", GOOD))), "give the steps with --step E"),
    Case(
        "unknown order",
        lambda d: funnel(str(_write(d / "g.csv", GOOD)), "-s", "a", "-s", "b", "--order", "sideways"),
        "--order: expected one of ordered, strict, any, got 'sideways'",
    ),
    Case(
        "unknown time zone",
        lambda d: funnel(str(_write(d / "g.csv", GOOD)), "-s", "a", "-s", "b", "--tz", "Mars/Base"),
        "--tz: unknown time zone 'Mars/Base'",
    ),
    Case(
        "breakdown by a missing column",
        lambda d: funnel(str(_write(d / "g.csv", GOOD)), "-s", "a", "-s", "b", "--by", "chanel"),
        "--by: no column 'chanel' in the events",
    ),
    Case(
        "exclusion outside the funnel",
        lambda d: funnel(str(_write(d / "g.csv", GOOD)), "-s", "a", "-s", "b", "--exclude", "x:1-3"),
        "--exclude x:1-3: steps must satisfy 1 ≤ A < B ≤ 2",
    ),
    Case(
        "bad attribution",
        lambda d: funnel(str(_write(d / "g.csv", GOOD)), "-s", "a", "-s", "b", "--attribution", "step:9"),
        "--attribution: expected first, last or step:N",
    ),
    Case(
        "aggregate by a missing column",
        lambda d: funnel(str(_write(d / "g.csv", GOOD)), "-s", "a", "-s", "b", "--aggregate-by", "session_id"),
        "--aggregate-by: no column 'session_id'",
    ),
    Case(
        "unknown time format",
        lambda d: funnel(str(_write(d / "g.csv", GOOD)), "-s", "a", "-s", "b", "--time-format", "unix"),
        "unknown time format 'unix'",
    ),
    Case(
        "unknown file type",
        lambda d: ["inspect", str(_write(d / "events.xlsx", "x"))],
        "events.xlsx: unknown file type '.xlsx'",
    ),
    Case("unknown option", lambda d: funnel("x.csv", "--windw", "7d"), "No such option: --windw"),
    Case("unknown command", lambda d: ["funel", "x.csv"], "funel"),
    Case(
        "validate a missing map",
        lambda d: ["validate", str(d / "map.yaml")],
        "map.yaml: no such file",
    ),
    Case(
        "init over an existing file",
        lambda d: ["init", "-o", str(_write(d / "map.yaml", "keep me"))],
        "already exists (use --force to overwrite)",
    ),
    Case(
        "gzip csv that is not gzip",
        lambda d: funnel(str(_write(d / "z.csv.gz", b"not gzip at all\n")), "-s", "a", "-s", "b"),
        "z.csv.gz",
    ),
    Case(
        "text in an amount column",
        lambda d: [
            "metrics",
            str(_write(d / "a.csv", HEADER.replace("timestamp", "timestamp,amount") + '1,visit,2025-01-01T00:00:00Z,\n1,purchase,2025-01-02T00:00:00Z,"$3.00"\n')),
            "--model", "tofu-mofu-bofu",
        ],
        "column 'amount' (amount) holds String, expected numbers",
    ),
    Case(
        "spend file without an amount",
        lambda d: [
            "metrics",
            str(_write(d / "g.csv", GOOD)),
            "--model", "aarrr",
            "--spend", str(_write(d / "spend.csv", "date,channel,cost\n2025-01-01,ads,10\n")),
            "-o", str(d / "out.json"),
        ],
        "has no amount column 'amount' (columns: date, channel, cost)",
    ),
    Case(
        "retention with a bad period",
        lambda d: ["retention", str(_write(d / "g.csv", GOOD)), "--period", "fortnight"],
        "--period",
    ),
    Case(
        "check without targets file",
        lambda d: ["check", str(_write(d / "g.csv", GOOD)), "--model", str(d / "missing.yaml")],
        "missing.yaml: no such file",
    ),
    Case(
        "inspect missing column mapping",
        lambda d: ["inspect", str(_write(d / "g.csv", GOOD)), "--time-col", "ts"],
        "no time column 'ts' (columns: user_id, event, timestamp)",
    ),
    # cjkit clv
    Case("clv without purchases", lambda d: ["clv", str(_write(d / "e.csv", GOOD))], "clv needs the purchases"),
    Case(
        "clv purchase event missing",
        lambda d: ["clv", str(_write(d / "e.csv", GOOD)), "--purchase-event", "buy"],
        "no purchase events (buy) in the data",
    ),
    Case(
        "clv bad horizon",
        lambda d: ["clv", str(_write(d / "e.csv", GOOD)), "--purchase-event", "visit", "--horizon", "soon"],
        "horizon: expected a span such as 90d, 26w, 12mo or 1y",
    ),
    Case(
        "clv one purchase day each",
        lambda d: ["clv", str(_write(d / "e.csv", GOOD)), "--purchase-event", "visit"],
        "bought on one day only",
    ),
    # --strict, --max-dropped, --top
    Case(
        "strict: a step that never occurs",
        lambda d: funnel(str(_write(d / "g.csv", GOOD)), "-s", "visit", "-s", "signpu", "--strict"),
        "step event 'signpu' never occurs in the data; did you mean 'signup'?",
    ),
    Case(
        "max-dropped not a share",
        lambda d: funnel(str(_write(d / "g.csv", GOOD)), "-s", "visit", "-s", "signup", "--max-dropped", "lots"),
        "--max-dropped: expected a share such as 1% or 0.01, got 'lots'",
    ),
    Case(
        "max-dropped exceeded",
        lambda d: funnel(
            str(_write(d / "g.csv", HEADER + "1,visit,2025-01-01T00:00:00Z\n,signup,2025-01-02T00:00:00Z\n")),
            "-s", "visit", "-s", "signup", "--max-dropped", "1%",
        ),
        "50.0% of the rows, more than --max-dropped allows (1%)",
    ),
    Case(
        "retention top 0 without a breakdown",
        lambda d: ["retention", str(_write(d / "g.csv", GOOD)), "--top", "0"],
        "--top: expected a whole number of at least 1, got 0",
    ),
    Case(
        "metrics top 0",
        lambda d: ["metrics", str(SHOP), "--model", "aarrr", "--top", "0"],
        "--top: expected a whole number of at least 1, got 0",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = case.make(tmp_path)
    before = {p.name for p in tmp_path.rglob("*")}
    code = main(args)
    out = capsys.readouterr()
    assert code == case.code, out.err
    lines = out.err.splitlines()
    assert len(lines) == 1, out.err
    assert lines[0].startswith("Error: "), lines[0]
    assert case.expect in lines[0], lines[0]
    assert "Traceback" not in out.err + out.out
    after = {p.name for p in tmp_path.rglob("*")}
    assert after == before, f"left files behind: {after - before}"


def test_at_least_thirty_cases() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"\xef\xbb\xbf" + GOOD.encode(), id="bom"),
        pytest.param(GOOD.replace("\n", "\r\n").encode(), id="crlf"),
        pytest.param(gzip.compress(GOOD.encode()), id="gzip"),
    ],
)
def test_awkward_csv_still_works(content: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    name = "events.csv.gz" if content[:2] == b"\x1f\x8b" else "events.csv"
    path = _write(tmp_path / name, content)
    assert main(["funnel", str(path), "-s", "visit", "-s", "signup", "-f", "csv"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[1].startswith("(all),1,visit,2,")
    assert out.splitlines()[2].startswith("(all),2,signup,1,")
