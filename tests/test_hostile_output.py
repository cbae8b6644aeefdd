"""The output writer never harms what exists (issue 19 item 1, issue 12 item 1).

Regular files and new paths are replaced atomically; symlinks are written through; devices,
FIFOs and ``-`` are written directly; folders are refused; ENOSPC and EPIPE are one-line
OutputErrors; the temporary name fits NAME_MAX; signals leave no temporary file.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import polars as pl
import pytest

from cjkit.errors import OutputError
from cjkit.io import output
from cjkit.io.output import temp_name, write_frame, write_text


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_new_file_and_regular_file_are_replaced_atomically(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    write_text(target, "one\n")
    assert target.read_text() == "one\n"
    target.chmod(0o640)
    inode = target.stat().st_ino
    write_text(target, "two\n")
    assert target.read_text() == "two\n"
    assert target.stat().st_ino != inode  # a new file was renamed into place
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # the old mode is kept
    assert _leftovers(tmp_path) == []


def test_symlink_is_written_through_and_stays_a_link(tmp_path: Path) -> None:
    real = tmp_path / "real.txt"
    real.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    write_text(link, "new")
    assert link.is_symlink()
    assert real.read_text() == "new"
    assert _leftovers(tmp_path) == []


def test_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "link.csv"
    link.symlink_to(tmp_path / "made.csv")
    write_frame(link, pl.DataFrame({"a": [1, 2]}))
    assert link.is_symlink()
    assert (tmp_path / "made.csv").read_text() == "a\n1\n2\n"


def test_fifo_is_written_directly_and_stays_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []

    def reader() -> None:
        with open(fifo, "rb") as handle:
            got.append(handle.read())

    thread = threading.Thread(target=reader)
    thread.start()
    write_text(fifo, "through the pipe\n")
    thread.join(5)
    assert got == [b"through the pipe\n"]
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_fifo_whose_reader_left_is_epipe(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)

    def reader() -> None:
        with open(fifo, "rb") as handle:
            handle.read(1)

    thread = threading.Thread(target=reader)
    thread.start()
    with pytest.raises(OutputError, match="the reader closed the pipe"):
        write_text(fifo, "x" * 4_000_000)
    thread.join(5)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_dev_full_reports_enospc_and_stays_a_device() -> None:
    before = os.stat("/dev/full")
    with pytest.raises(OutputError, match=r"/dev/full: can't write the file \(No space left"):
        write_text(Path("/dev/full"), "x" * 100_000)
    with pytest.raises(OutputError, match="No space left"):
        write_frame(Path("/dev/full"), pl.DataFrame({"a": list(range(100_000))}))
    after = os.stat("/dev/full")
    assert stat.S_ISCHR(after.st_mode)
    assert (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)


def test_dev_null_stays_a_device() -> None:
    write_text(Path("/dev/null"), "gone\n")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="is a folder, expected a file name"):
        write_text(tmp_path, "x")


def test_missing_folder_and_file_as_folder(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="does not exist"):
        write_text(tmp_path / "no" / "out.json", "x")
    (tmp_path / "f").write_text("")
    with pytest.raises(OutputError, match=r"is not a folder|can.t use this path"):
        write_text(tmp_path / "f" / "out.json", "x")


def test_name_too_long_is_an_output_error(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="too long"):
        write_text(tmp_path / ("n" * 300), "x")


def test_temp_name_fits_name_max(tmp_path: Path) -> None:
    name = "a" * 250 + ".json"  # 255 bytes: valid, and the temp name must be too
    write_text(tmp_path / name, "ok")
    assert (tmp_path / name).read_text() == "ok"
    wide = "é" * 127  # 254 bytes of two-byte characters
    tmp = temp_name(tmp_path / wide, tmp_path)
    assert len(tmp.name.encode()) <= 255
    tmp.name.encode().decode("utf-8")  # cut on a character boundary


def test_failing_writer_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "keep.txt"
    target.write_text("precious")

    def boom(handle: object) -> None:
        raise RuntimeError("mid-write")

    with pytest.raises(RuntimeError):
        output.write_with(target, boom)
    assert target.read_text() == "precious"
    assert _leftovers(tmp_path) == []


def test_dash_writes_to_stdout(capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    write_text(Path("-"), "to stdout\n")
    assert capfdbinary.readouterr().out == b"to stdout\n"


_SIGNAL_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys, time
    from pathlib import Path
    from cjkit.io import output

    output.install_signal_handlers()
    target = Path(sys.argv[1])

    def slow(handle):
        handle.write(b"partial")
        handle.flush()
        print("writing", flush=True)
        time.sleep(30)

    try:
        output.write_with(target, slow)
    except KeyboardInterrupt:
        time.sleep(0.3)  # a second signal arrives during the unwinding
        sys.exit(130)
    except output.Terminated:
        time.sleep(0.3)
        sys.exit(143)
    """
)


@pytest.mark.parametrize(
    ("signals", "code"),
    [
        ([signal.SIGINT], 130),
        ([signal.SIGTERM], 143),
        ([signal.SIGINT, signal.SIGINT], 130),
        ([signal.SIGTERM, signal.SIGINT], 143),
    ],
)
def test_signals_leave_no_temporary_file(
    tmp_path: Path, signals: list[signal.Signals], code: int
) -> None:
    target = tmp_path / "out.json"
    target.write_text("old")
    proc = subprocess.Popen(
        [sys.executable, "-c", _SIGNAL_SCRIPT, str(target)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"writing\n"
    assert len(_leftovers(tmp_path)) == 1  # the temporary file exists while writing
    for sig in signals:
        proc.send_signal(sig)
        threading.Event().wait(0.1)
    _, stderr = proc.communicate(timeout=10)
    assert proc.returncode == code, stderr.decode()
    assert b"Traceback" not in stderr
    assert _leftovers(tmp_path) == []
    assert target.read_text() == "old"
