"""Every command against every adversarial input: never exit 3, never a traceback (issue 19
item 2, issue 12 item 2).

The inputs are the bad-input table's files (tests/test_bad_input.py) plus the attack run's:
binary and UTF-16 CSVs, µs epochs, epochs followed by ISO text, times outside 0001-9999, a
Parquet ``Datetime("ms")`` near 2^62 (a Rust panic in Polars), escape sequences in event
names, 1.10/1.1 ids, a FIFO, /dev/null, a name over NAME_MAX, a ``**`` loop. Each run is
bounded by an alarm so a hang fails the test instead of the CI job.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from deadline import deadline

from cjkit.cli import main

HEADER = "user_id,event,timestamp\n"
GOOD = (
    HEADER
    + "1,visit,2025-01-01T00:00:00Z\n1,signup,2025-01-02T00:00:00Z\n2,visit,2025-01-03T00:00:00Z\n"
)
SHOP_MAP = Path(__file__).resolve().parents[1] / "examples" / "shop" / "map.yaml"


def _text(name: str, text: str | bytes) -> Callable[[Path], str]:
    def make(folder: Path) -> str:
        path = folder / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return str(path)

    return make


def _truncated_parquet(folder: Path) -> str:
    whole = folder / "whole.parquet"
    pl.DataFrame({"user_id": ["1"], "event": ["a"], "timestamp": ["2025-01-01"]}).write_parquet(
        whole
    )
    path = folder / "t.parquet"
    path.write_bytes(whole.read_bytes()[:200])
    return str(path)


def _panic_parquet(folder: Path) -> str:
    path = folder / "panic.parquet"
    pl.DataFrame(
        {
            "user_id": ["1", "2"],
            "event": ["visit", "signup"],
            "timestamp": pl.Series([2**62, 1_700_000_000_000], dtype=pl.Int64).cast(
                pl.Datetime("ms")
            ),
        }
    ).write_parquet(path)
    return str(path)


def _fifo(folder: Path) -> str:
    path = folder / "pipe.csv"
    os.mkfifo(path)
    return str(path)


def _loop(folder: Path) -> str:
    root = folder / "loop"
    root.mkdir()
    (root / "e.csv").write_text(GOOD, encoding="utf-8")
    os.symlink(".", root / "a")
    os.symlink(".", root / "b")
    return f"{root}/**/*.csv"


INPUTS: dict[str, Callable[[Path], str]] = {
    "missing": lambda d: str(d / "nope.csv"),
    "truncated parquet": _truncated_parquet,
    "random bytes": _text("r.csv", bytes(range(256)) * 8),
    "utf-16": _text("u.csv", GOOD.encode("utf-16")),
    "latin-1": _text("l.csv", (HEADER + "1,caf\xe9,2025-01-01T00:00:00Z\n").encode("latin-1")),
    "gzip garbage": _text("g.csv.gz", gzip.compress(b"\x00\xff" * 100)),
    "empty": _text("e.csv", ""),
    "header only": _text("h.csv", HEADER),
    "ragged": _text("rg.csv", GOOD + "3,visit,2025-01-04T00:00:00Z,extra\n"),
    "duplicate column": _text("d.csv", "user_id,event,timestamp,event\n1,a,2025-01-01,b\n"),
    "null times": _text("n.csv", HEADER + "1,visit,\n2,signup,\n"),
    "mixed times": _text("x.csv", GOOD + "3,visit,01/05/2025\n"),
    "impossible date": _text("i.csv", GOOD + "3,visit,2025-02-30T00:00:00Z\n"),
    "µs epochs": _text("us.csv", HEADER + "1,visit,1735689600000000\n1,signup,1735776000000000\n"),
    "epoch then iso": _text(
        "ei.csv", HEADER + "1,visit,1735689600\n2,visit,2025-01-02T00:00:00Z\n"
    ),
    "year 9999": _text("y.csv", GOOD + "4,visit,9999-12-31T23:59:59Z\n"),
    "year 1": _text("y1.csv", GOOD + "5,visit,0001-01-01T00:00:00Z\n"),
    "escape sequences": _text(
        "esc.csv", HEADER + '1,"\x1b]0;x\x07\x1b[2Jv",2025-01-01T00:00:00Z\n'
    ),
    "float-like ids": _text(
        "f.csv", HEADER + "1.10,visit,2025-01-01T00:00:00Z\n1.1,visit,2025-01-01T00:00:00Z\n"
    ),
    "huge ids": _text("big.csv", HEADER + f"{10**40},visit,2025-01-01T00:00:00Z\n"),
    "ndjson garbage": _text("j.ndjson", '{"user_id": 1, "event": "a"\n[1,2,\n'),
    "ndjson types": _text("t.ndjson", '{"user_id": 1, "event": {"x": 1}, "timestamp": [1]}\n'),
    "panic parquet": _panic_parquet,
    "fifo": _fifo,
    "dev null": lambda d: "/dev/null",
    "name too long": lambda d: str(d / ("n" * 300 + ".csv")),
    "symlink loop": _loop,
}

COMMANDS: dict[str, Callable[[str, Path], list[str]]] = {
    "inspect": lambda f, d: ["inspect", f],
    "funnel": lambda f, d: ["funnel", f, "-s", "visit", "-s", "signup", "-f", "json"],
    "retention": lambda f, d: ["retention", f, "-f", "json"],
    "lifecycle": lambda f, d: ["lifecycle", f, "-f", "json"],
    "stickiness": lambda f, d: ["stickiness", f],
    "metrics": lambda f, d: ["metrics", f, "--model", "aarrr", "-f", "json"],
    "check": lambda f, d: ["check", f, "--model", str(SHOP_MAP)],
    "validate --data": lambda f, d: ["validate", str(SHOP_MAP), "--data", f],
    "paths": lambda f, d: ["paths", f, "-f", "json"],
    "clv": lambda f, d: ["clv", f, "-f", "json"],
    "report": lambda f, d: ["report", f, "-o", str(d / "r.html")],
}


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("name", list(INPUTS))
def test_no_exit_3_and_no_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, command: str
) -> None:
    target = INPUTS[name](tmp_path)
    args = COMMANDS[command](target, tmp_path)
    with deadline(60):
        code = main(args)
    captured = capsys.readouterr()
    assert code != 3, captured.err
    assert "Traceback" not in captured.err
    assert "Internal error" not in captured.err
    assert "\x1b]" not in captured.err  # escape sequences never reach the terminal raw
    if code == 2:
        lines = [line for line in captured.err.splitlines() if line.startswith("Error: ")]
        assert len(lines) == 1, captured.err


@pytest.mark.parametrize(
    ("env", "value"),
    [("CJKIT_MEMORY_LIMIT", "garbage"), ("CJKIT_MEMORY_LIMIT", "0"), ("CJKIT_MAX_DROPPED", "5x")],
)
@pytest.mark.parametrize(
    "command", ["inspect", "funnel", "retention", "lifecycle", "metrics", "validate --data"]
)
def test_bad_environment_is_refused_by_every_command(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    env: str,
    value: str,
    command: str,
) -> None:
    events = tmp_path / "g.csv"
    events.write_text(GOOD, encoding="utf-8")
    monkeypatch.setenv(env, value)
    code = main(COMMANDS[command](str(events), tmp_path))
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"Error: {env}:" in err


def test_max_dropped_makes_dropped_rows_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    events = tmp_path / "holes.csv"
    events.write_text(GOOD + ",visit,2025-01-05T00:00:00Z\n", encoding="utf-8")
    monkeypatch.setenv("CJKIT_MAX_DROPPED", "1%")
    code = main(["funnel", str(events), "-s", "visit", "-s", "signup"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "25.0% of the rows, more than CJKIT_MAX_DROPPED allows" in err


def test_misspelt_step_warns_with_a_suggestion(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = tmp_path / "g.csv"
    events.write_text(GOOD, encoding="utf-8")
    code = main(["funnel", str(events), "-s", "visit", "-s", "signpu"])
    err = capsys.readouterr().err
    assert code == 0
    assert "step event 'signpu' never occurs in the data; did you mean 'signup'?" in err


@pytest.mark.parametrize(
    "args",
    [
        [
            "funnel",
            "{f}",
            "-s",
            "visit",
            "-s",
            "signup",
            "--since",
            "0001-01-01",
            "--tz",
            "Asia/Tokyo",
        ],
        ["retention", "{f}", "--since", "0001-01-01", "--tz", "Asia/Tokyo"],
        ["lifecycle", "{f}", "--until", "9999-12-31", "--tz", "Pacific/Kiritimati"],
        ["funnel", "{f}", "-s", "visit", "-s", "signup", "--tz", "right/UTC"],
        ["funnel", "{f}", "-s", "visit", "-s", "signup", "--tz", "posixrules"],
        ["retention", "{f}", "--tz", "localtime"],
        ["funnel", "{f}", "-s", "visit", "-s", "signup", "--window", "99999999999999999999d"],
        ["funnel", "{f}", "-s", "visit", "-s", "signup", "-o", "{d}"],
        ["funnel", "{f}", "-s", "visit", "-s", "signup", "-o", "{d}/" + "n" * 300],
        ["funnel", "{f}", "-s", "visit", "-s", "signup", "-o", "/dev/full"],
        ["funnel", "{f}", "-s", "visit", "-s", "signup", "--units", "/dev/full"],
    ],
)
def test_cli_misuse_is_exit_0_or_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    events = tmp_path / "g.csv"
    events.write_text(GOOD, encoding="utf-8")
    filled = [a.replace("{f}", str(events)).replace("{d}", str(tmp_path)) for a in args]
    with deadline(60):
        code = main(filled)
    err = capsys.readouterr().err
    assert code in (0, 2), err
    assert "Internal error" not in err
    assert Path("/dev/full").is_char_device()
