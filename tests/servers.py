"""Throwaway servers for the remote-source tests: a PostgreSQL cluster and a moto S3 server.

Both listen on a free 127.0.0.1 port and are stopped at the end of the test session. When a
server can't start the tests that need it are skipped on a developer's machine, and fail in CI
(``CI=true``), where ``.ci/run`` installs what they need.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

PG_PASSWORD = "s3cr3t-pw-9z"


def unavailable(reason: str) -> None:
    """Skip the test, or fail it in CI, where every server must start."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pg_bin() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3])
    )
    return Path(versions[-1]).parent if versions else None


def _as_user() -> tuple[list[str], str | None]:
    # PostgreSQL refuses to run as root: run it as the postgres (or nobody) account.
    if os.geteuid() != 0:
        return [], None
    for user in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            import pwd

            pwd.getpwnam(user)
            return ["runuser", "-u", user, "--"], user
    return [], None


@dataclass(frozen=True)
class Postgres:
    """A running cluster: ``uri`` with the password, ``port``."""

    uri: str
    port: int


@contextlib.contextmanager
def postgres() -> Iterator[Postgres]:
    """Start a PostgreSQL cluster (initdb + pg_ctl) in a temporary folder; stop it after."""
    bindir = _pg_bin()
    if bindir is None:
        unavailable("PostgreSQL binaries not found (apt-get install postgresql)")
    assert bindir is not None
    prefix, user = _as_user()
    root = Path(tempfile.mkdtemp(prefix="cjkit-pg-"))
    data = root / "data"
    pwfile = root / "pw"
    pwfile.write_text(PG_PASSWORD + "\n")
    if user:
        shutil.chown(root, user)
        shutil.chown(pwfile, user)
    port = free_port()
    run: dict[str, Any] = {"capture_output": True, "text": True, "timeout": 120, "check": False}
    init = subprocess.run(
        [
            *prefix,
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "cjkit",
            "-E",
            "UTF8",
            "--auth=scram-sha-256",
            f"--pwfile={pwfile}",
            "--no-sync",
            "--locale=C",
        ],
        **run,
    )
    if init.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        unavailable(f"initdb failed: {init.stderr.strip()[-300:]}")
    options = (
        f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c full_page_writes=off -c synchronous_commit=off"
    )
    start = subprocess.run(
        [
            *prefix,
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(root / "log"),
            "-w",
            "-t",
            "60",
            "start",
        ],
        **run,
    )
    if start.returncode != 0:
        log = (root / "log").read_text() if (root / "log").exists() else start.stderr
        shutil.rmtree(root, ignore_errors=True)
        unavailable(f"PostgreSQL did not start: {log.strip()[-300:]}")
    try:
        yield Postgres(f"postgresql://cjkit:{PG_PASSWORD}@127.0.0.1:{port}/postgres", port)
    finally:
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            **run,
        )
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def moto_s3(*, enforce_auth: bool = False) -> Iterator[str]:
    """Start moto's S3 server on a free loopback port; yield its endpoint URL.

    With ``enforce_auth`` the server checks every request's credentials (moto knows none, so
    each is denied with 403).
    """
    try:
        import moto.server  # noqa: F401
    except ImportError:
        unavailable("moto[server] is not installed (pip install -e '.[dev]')")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **({"INITIAL_NO_AUTH_ACTION_COUNT": "0"} if enforce_auth else {})},
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    unavailable("moto's S3 server did not start")
                time.sleep(0.2)
        yield endpoint
    finally:
        proc.terminate()
        proc.wait(timeout=10)
