"""Write output without ever harming what is already there.

What a target is decides how it is written:

* ``-`` is standard output;
* a path that doesn't exist, or a regular file, is written atomically: a temporary file in the
  same folder, then a rename (a failing run keeps the old file);
* a symlink is written through to its target (atomically when the target is a regular file or
  doesn't exist yet), so the link itself stays a link;
* a device, FIFO or socket (``/dev/stdout``, ``/dev/null``, a named pipe) is opened and written
  directly: renaming onto it would replace the node with a regular file;
* a folder is refused.

Disk-full (ENOSPC) and a closed reader (EPIPE) are :class:`OutputError` (exit 2). SIGINT and
SIGTERM remove the temporary file, also when a second signal arrives during the cleanup.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import signal
import stat
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import BinaryIO

from cjkit.errors import OutputError, Terminated

STDOUT = "-"
# Names of the process's own standard streams: written through the open descriptor, so a
# shell's ``>>`` keeps its earlier content and nothing is reopened or truncated.
_STDOUT_NAMES = frozenset({STDOUT, "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"})
_STDERR_NAMES = frozenset({"/dev/stderr", "/dev/fd/2", "/proc/self/fd/2"})

Writer = Callable[[BinaryIO], None]


# Temporary files being written now; the signal handler removes them before it raises.
_PENDING: set[str] = set()
_STATE = {"installed": False, "exiting": False}


def _cleanup_pending() -> None:
    for name in list(_PENDING):
        with contextlib.suppress(OSError):
            os.unlink(name)
        _PENDING.discard(name)


def _on_signal(signum: int, frame: FrameType | None) -> None:
    del frame
    _cleanup_pending()
    if _STATE["exiting"]:
        # A second interrupt while the first unwinds: the cleanup above is all it may do, so
        # the first exception finishes its ``finally`` blocks undisturbed.
        return
    _STATE["exiting"] = True
    if signum == signal.SIGTERM:
        raise Terminated()
    raise KeyboardInterrupt()


def install_signal_handlers() -> None:
    """Handle SIGINT and SIGTERM: remove pending temporary files, then raise once.

    SIGINT raises KeyboardInterrupt and SIGTERM :class:`Terminated`; a second signal only
    cleans up. Only the main thread can install handlers; elsewhere this does nothing.
    """
    if _STATE["installed"] or threading.current_thread() is not threading.main_thread():
        return
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    _STATE["installed"] = True


def _name_max(folder: Path) -> int:
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):
        return 255


def temp_name(path: Path, folder: Path) -> Path:
    """Return a fresh hidden temporary name beside ``path`` that fits within NAME_MAX bytes."""
    suffix = f".{secrets.token_hex(4)}.tmp"
    budget = _name_max(folder) - len(suffix.encode()) - 1
    stem = path.name.encode()[: max(budget, 1)].decode("utf-8", errors="ignore")
    return folder / f".{stem}{suffix}"


def _os_error(path: Path | str, exc: OSError, doing: str = "can't write the file") -> OutputError:
    code = _errno(exc)
    if code == errno.EPIPE:
        reason = "the reader closed the pipe"
    else:
        reason = os.strerror(code) if code else (exc.strerror or str(exc))
    return OutputError(f"{path}: {doing} ({reason})")


def _errno(exc: OSError) -> int:
    """The errno, also from the Rust I/O errors Polars raises ("… (os error 28)")."""
    if exc.errno:
        return exc.errno
    found = re.search(r"os error (\d+)", str(exc))
    return int(found.group(1)) if found else 0


def _resolve(path: Path) -> tuple[str, Path]:
    """Return (kind, where): 'stdout', 'stderr', 'direct' or 'atomic', and the real target."""
    if str(path) in _STDOUT_NAMES:
        return "stdout", path
    if str(path) in _STDERR_NAMES:
        return "stderr", path
    try:
        info = path.stat()  # follows symlinks
    except (FileNotFoundError, NotADirectoryError):
        info = None  # _check_folder says which part of the path is missing or not a folder
    except OSError as exc:
        raise _os_error(path, exc, "can't use this path") from None
    if info is None:
        # Missing, or a dangling symlink: write (atomically) where the link points.
        target = Path(os.path.realpath(path)) if path.is_symlink() else path
        _check_folder(path, target)
        return "atomic", target
    if stat.S_ISDIR(info.st_mode):
        raise OutputError(f"{path}: is a folder, expected a file name")
    if stat.S_ISREG(info.st_mode) and not _through_proc(path):
        target = Path(os.path.realpath(path)) if path.is_symlink() else path
        return "atomic", target
    return "direct", path


def _through_proc(path: Path) -> bool:
    """True for descriptor links (/dev/fd/N, /proc/PID/fd/N): the file behind one is open."""
    real = os.path.realpath(path)
    return real.startswith("/proc/") or str(path).startswith(("/dev/fd/", "/proc/"))


def _check_folder(path: Path, target: Path) -> None:
    folder = target.parent if str(target.parent) else Path(".")
    try:
        is_dir = folder.is_dir()
        exists = is_dir or folder.exists()
    except OSError as exc:
        raise _os_error(path, exc, "can't use this path") from None
    if not exists:
        raise OutputError(f"{path}: the folder {folder} does not exist")
    if not is_dir:
        raise OutputError(f"{path}: {folder} is not a folder")


def _mode_for(target: Path) -> int:
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextlib.contextmanager
def _pending(name: Path) -> Iterator[None]:
    _PENDING.add(str(name))
    try:
        yield
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise
    finally:
        _PENDING.discard(str(name))


def _write_atomic(shown: Path, target: Path, write: Writer) -> None:
    folder = target.parent if str(target.parent) else Path(".")
    tmp = temp_name(target, folder)
    install_signal_handlers()
    try:
        with _pending(tmp):
            try:
                handle = open(tmp, "xb")  # noqa: SIM115 - closed below, before the rename
            except OSError as exc:
                raise _os_error(shown, exc, "can't write here") from None
            with handle:
                write(handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, _mode_for(target))
            os.replace(tmp, target)
    except OSError as exc:
        raise _os_error(shown, exc) from None


def _write_direct(shown: Path, write: Writer) -> None:
    try:
        # No O_CREAT race and no truncation games: the node exists and is not a regular file.
        with open(shown, "wb") as handle:
            write(handle)
    except OSError as exc:
        raise _os_error(shown, exc) from None


def _write_stream(write: Writer, *, stderr: bool = False) -> None:
    stream = sys.stderr if stderr else sys.stdout
    stream.flush()
    out = stream.buffer
    try:
        write(out)
        out.flush()
    except BrokenPipeError:
        raise  # the CLI ends quietly when its reader (``| head -1``) goes away
    except OSError as exc:
        raise _os_error("standard error" if stderr else "standard output", exc) from None


def write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it into place.

    For writers that need a file name (not a handle). ``path`` must be a new path, a regular
    file or a link to one; on any error the temporary file is removed.
    """
    kind, target = _resolve(path)
    if kind != "atomic":
        raise OutputError(f"{path}: expected a regular file to replace")
    folder = target.parent if str(target.parent) else Path(".")
    tmp = temp_name(target, folder)
    install_signal_handlers()
    try:
        with _pending(tmp):
            write(tmp)
            os.chmod(tmp, _mode_for(target))
            os.replace(tmp, target)
    except OSError as exc:
        raise _os_error(path, exc) from None


def write_with(path: Path, write: Writer) -> None:
    """Write ``path`` by calling ``write(binary_file)``, choosing how by what ``path`` is."""
    kind, target = _resolve(path)
    if kind in ("stdout", "stderr"):
        _write_stream(write, stderr=kind == "stderr")
    elif kind == "direct":
        _write_direct(path, write)
    else:
        _write_atomic(path, target, write)


def write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` (``-`` is stdout); see the module docstring."""
    data = text.encode("utf-8")

    def write(handle: BinaryIO) -> None:
        handle.write(data)

    write_with(path, write)


def write_frame(path: Path, frame: object) -> None:
    """Write a Polars DataFrame to ``path``: Parquet for .parquet/.pq, else CSV (``-``: CSV)."""
    import polars as pl

    assert isinstance(frame, pl.DataFrame)
    if path.suffix.lower() in (".parquet", ".pq"):
        write_with(path, lambda handle: frame.write_parquet(handle))
    else:
        write_with(path, lambda handle: frame.write_csv(handle))
