"""Write output files atomically: a temporary file in the same folder, then a rename."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from cjkit.errors import OutputError


def _check_target(path: Path) -> Path:
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.exists():
        raise OutputError(f"{path}: the folder {folder} does not exist")
    if not folder.is_dir():
        raise OutputError(f"{path}: {folder} is not a folder")
    if path.is_dir():
        raise OutputError(f"{path}: is a folder, expected a file name")
    return folder


def write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it into place.

    On any error the temporary file is removed, so no half-written output is ever left behind.
    """
    folder = _check_target(path)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise OutputError(f"{path}: can't write here ({exc.strerror})") from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        if path.exists():
            mode = path.stat().st_mode & 0o777
        else:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        tmp.chmod(mode)
        tmp.replace(path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise OutputError(f"{path}: can't write the file ({exc.strerror})") from None
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _write_utf8(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    write_atomic(path, lambda tmp: _write_utf8(tmp, text))


def write_frame(path: Path, frame: object) -> None:
    """Write a Polars DataFrame to ``path`` atomically: Parquet for .parquet, else CSV."""
    import polars as pl

    assert isinstance(frame, pl.DataFrame)
    if path.suffix.lower() in (".parquet", ".pq"):
        write_atomic(path, lambda tmp: frame.write_parquet(tmp))
    else:
        write_atomic(path, lambda tmp: frame.write_csv(tmp))
