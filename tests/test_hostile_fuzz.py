"""Byte-flip fuzzing of the CSV, NDJSON and Parquet loaders (issue 19 item 9).

A valid file of each format has random bytes replaced, inserted or cut; ``inspect`` and
``funnel`` over it must end in exit 0 or 2 with no traceback, within seconds. The number of
examples follows the Hypothesis profile (``dev``: 10 per format, ``ci``: 100).
"""

from __future__ import annotations

import io
import signal
import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cjkit.cli import main

ROWS = pl.DataFrame(
    {
        "user_id": [f"u{i % 7}" for i in range(40)],
        "event": [("visit", "signup", "purchase")[i % 3] for i in range(40)],
        "timestamp": [f"2025-01-{1 + i % 28:02d}T10:{i % 60:02d}:00Z" for i in range(40)],
        "amount": [float(i) for i in range(40)],
    }
)


def _bytes(fmt: str) -> bytes:
    buffer = io.BytesIO()
    if fmt == "csv":
        ROWS.write_csv(buffer)
    elif fmt == "ndjson":
        ROWS.write_ndjson(buffer)
    else:
        ROWS.write_parquet(buffer)
    return buffer.getvalue()


BASE = {fmt: _bytes(fmt) for fmt in ("csv", "ndjson", "parquet")}

edits = st.lists(
    st.tuples(
        st.sampled_from(["replace", "insert", "cut"]),
        st.floats(min_value=0, max_value=1, allow_nan=False),
        st.binary(min_size=1, max_size=8),
    ),
    min_size=1,
    max_size=6,
)


def _mutate(data: bytes, changes: list[tuple[str, float, bytes]]) -> bytes:
    out = bytearray(data)
    for kind, where, chunk in changes:
        at = int(where * max(len(out) - 1, 0))
        if kind == "replace":
            out[at : at + len(chunk)] = chunk
        elif kind == "insert":
            out[at:at] = chunk
        else:
            del out[at : at + len(chunk)]
    return bytes(out)


def _alarm(signum: int, frame: object) -> None:
    raise TimeoutError("a loader took longer than 30 s on a small corrupt file")


@pytest.mark.parametrize("fmt", list(BASE))
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(changes=edits)
def test_corrupt_files_end_in_0_or_2(
    fmt: str, changes: list[tuple[str, float, bytes]], capsys: pytest.CaptureFixture[str]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"events.{fmt}"
        path.write_bytes(_mutate(BASE[fmt], changes))
        previous = signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(30)
        try:
            for args in (
                ["inspect", str(path)],
                ["funnel", str(path), "-s", "visit", "-s", "signup", "-f", "json"],
            ):
                code = main(args)
                err = capsys.readouterr().err
                assert code in (0, 2), (args, err)
                assert "Traceback" not in err
                assert "Internal error" not in err
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("fmt", list(BASE))
def test_unchanged_files_read(fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / f"events.{fmt}"
    path.write_bytes(BASE[fmt])
    assert main(["funnel", str(path), "-s", "visit", "-s", "signup", "-f", "json"]) == 0
    assert '"kind": "funnel"' in capsys.readouterr().out
