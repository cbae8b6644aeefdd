"""Output survives every redirection (issue 12 item 1), run as a user runs it in a terminal.

stderr (and stdin) are a pseudo-terminal, so the progress spinner is live; stdout goes to a
file or a pipe and must get the whole document, with no spinner text in it. Also: ``-o``
through a symlink, ``-o /dev/stdout`` and ``-o -``, ``| head -1`` ending quietly.
"""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from cjkit.render.console import busy

ROOT = Path(__file__).resolve().parents[1]
SHOP = ROOT / "examples" / "shop" / "events.parquet"
CJKIT = [sys.executable, "-m", "cjkit"]
ENV = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100"}
ENV.pop("CI", None)  # the spinner stays off in CI logs; these tests need it on


def _events(folder: Path, units: int = 3000) -> Path:
    lines = ["user_id,event,timestamp"]
    for unit in range(units):
        lines.append(f"u{unit},visit,2025-01-01T00:00:{unit % 60:02d}Z")
        if unit % 2:
            lines.append(f"u{unit},signup,2025-01-02T00:00:00Z")
    path = folder / "events.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def _run_with_tty_stderr(args: list[str], stdout: int | object) -> tuple[int, bytes]:
    """Run cjkit with stdin and stderr on a pseudo-terminal; return (exit code, terminal text)."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [*CJKIT, *args], stdin=follower, stdout=stdout, stderr=follower, env=ENV, cwd=ROOT
    )
    os.close(follower)
    seen = bytearray()
    while True:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        elif proc.poll() is not None:
            break
    proc.wait(timeout=120)
    os.close(leader)
    return proc.returncode, bytes(seen)


@pytest.fixture(scope="module")
def metrics_json() -> bytes:
    """The reference document: the same command with no terminal anywhere."""
    args = ["metrics", str(SHOP), "--model", "aarrr", "--format", "json"]
    done = subprocess.run([*CJKIT, *args], capture_output=True, env=ENV, cwd=ROOT, check=True)
    return done.stdout


def test_redirected_to_a_file_under_a_terminal(tmp_path: Path, metrics_json: bytes) -> None:
    target = tmp_path / "m.json"
    with open(target, "wb") as handle:
        code, screen = _run_with_tty_stderr(
            ["metrics", str(SHOP), "--model", "aarrr", "--format", "json"], handle
        )
    assert code == 0, screen
    data = target.read_bytes()
    assert json.loads(data)["kind"] == "metrics"
    assert _without_volatile(data) == _without_volatile(metrics_json)
    assert b'"kind"' not in screen  # the data never reached the terminal
    if b"\r" in screen:  # the spinner showed: it was cleared at the end of its line
        assert screen.rstrip(b"\n").endswith(b"\r\x1b[K") or b"\r\x1b[K" in screen


def test_piped_under_a_terminal(tmp_path: Path) -> None:
    events = _events(tmp_path)
    code, screen = _run_with_tty_stderr(
        [
            "funnel",
            str(events),
            "-s",
            "visit",
            "-s",
            "signup",
            "--format",
            "csv",
        ],
        subprocess.PIPE,
    )
    assert code == 0, screen
    assert b"segment" not in screen


def test_pipe_reader_gets_everything_under_a_terminal(tmp_path: Path) -> None:
    events = _events(tmp_path)
    leader, follower = pty.openpty()
    args = ["funnel", str(events), "-s", "visit", "-s", "signup", "--format", "json"]
    proc = subprocess.Popen(
        [*CJKIT, *args], stdin=follower, stdout=subprocess.PIPE, stderr=follower, env=ENV
    )
    os.close(follower)
    drained = threading.Thread(target=_drain, args=(leader,), daemon=True)
    drained.start()
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0
    assert json.loads(out)["kind"] == "funnel"


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 4096):
            pass
    except OSError:
        pass


def test_spinner_never_wraps_stdout(capfd: pytest.CaptureFixture[str]) -> None:
    before = sys.stdout
    with busy("Working", delay=0.0):
        assert sys.stdout is before
        print("data line")
    assert capfd.readouterr().out == "data line\n"


def test_output_through_a_symlink(tmp_path: Path) -> None:
    events = _events(tmp_path, 20)
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    args = ["funnel", str(events), "-s", "visit", "-s", "signup", "-f", "json", "-o", str(link)]
    subprocess.run([*CJKIT, *args], env=ENV, check=True, capture_output=True)
    assert link.is_symlink()
    assert json.loads(real.read_text())["kind"] == "funnel"


@pytest.mark.parametrize("target", ["/dev/stdout", "-"])
def test_output_to_stdout_names(tmp_path: Path, target: str) -> None:
    events = _events(tmp_path, 20)
    out_file = tmp_path / "captured.json"
    out_file.write_text("kept\n")
    args = ["funnel", str(events), "-s", "visit", "-s", "signup", "-f", "json", "-o", target]
    with open(out_file, "ab") as handle:  # the shell's >>: earlier content must stay
        done = subprocess.run([*CJKIT, *args], env=ENV, stdout=handle, stderr=subprocess.PIPE)
    assert done.returncode == 0, done.stderr
    text = out_file.read_text()
    assert text.startswith("kept\n")
    assert json.loads(text[len("kept\n") :])["kind"] == "funnel"
    assert Path("/dev/stdout").is_symlink() or not Path("/dev/stdout").is_file()


def test_units_to_dev_stdout_keeps_the_link(tmp_path: Path) -> None:
    events = _events(tmp_path, 20)
    args = ["funnel", str(events), "-s", "visit", "-s", "signup", "--units", "/dev/stdout"]
    args += ["-f", "json", "-o", str(tmp_path / "report.json")]
    done = subprocess.run([*CJKIT, *args], env=ENV, capture_output=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().startswith("user_id") or b"," in done.stdout
    assert not Path("/dev/stdout").is_file() or Path("/dev/stdout").is_symlink()


def test_head_dash_1_ends_quietly(tmp_path: Path) -> None:
    events = _events(tmp_path, 20_000)
    args = ["funnel", str(events), "-s", "visit", "-s", "signup", "-f", "csv", "--by", "user_id"]
    proc = subprocess.Popen(
        [*CJKIT, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV
    )
    assert proc.stdout is not None
    assert proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # what head -1 does after its line
    stderr = proc.stderr.read()
    proc.wait(timeout=120)
    assert first.startswith(b"segment")
    assert stderr == b"", stderr.decode()
    assert proc.returncode in (0, 141)


def test_shell_pipeline_head(tmp_path: Path) -> None:
    events = _events(tmp_path, 20_000)
    command = (
        f"{sys.executable} -m cjkit funnel {events} -s visit -s signup -f csv --by user_id "
        "| head -1"
    )
    done = subprocess.run(["sh", "-c", command], env=ENV, capture_output=True, timeout=120)
    assert done.stdout.startswith(b"segment")
    assert done.stderr == b"", done.stderr.decode()


def _without_volatile(document: bytes) -> object:
    data = json.loads(document)
    if isinstance(data, dict):
        data.pop("generated_at", None)
    return data
