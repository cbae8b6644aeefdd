"""Walk folders and ``**`` globs without following directory symlinks.

``glob(recursive=True)`` and ``Path.rglob`` descend into symlinked folders, so a link
``a -> .`` under a ``**`` pattern never ends (two such links grow exponentially). Here folders
are walked with ``os.walk(followlinks=False)``: a symlink to a file is still read, a symlink to
a folder is not entered. A folder that can't be read is an InputError naming it, not silently
skipped.
"""

from __future__ import annotations

import glob as globlib
import os
import re
import stat
from pathlib import Path

from cjkit.errors import InputError


def _raise(exc: OSError) -> None:
    raise InputError(f"{exc.filename}: can't read the folder ({exc.strerror})") from None


def files_under(folder: Path) -> list[Path]:
    """Return every file under ``folder`` (symlinked folders not entered), sorted."""
    found: list[Path] = []
    for root, dirs, names in os.walk(folder, onerror=_raise, followlinks=False):
        dirs.sort()
        found.extend(Path(root) / name for name in names)
    return sorted(found)


def _translate(pattern: str) -> re.Pattern[str]:
    """A glob pattern as a regex over '/'-separated paths: ``**/`` is any folders (or none),
    ``*`` and ``?`` stay within one name, ``[...]`` is a character class."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:[^/]*/)*")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i + 1 :]:
            end = pattern.index("]", i + 1)
            body = pattern[i + 1 : end]
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def glob_files(pattern: str) -> list[Path]:
    """Return the files matching ``pattern``, sorted; ``**`` never enters symlinked folders."""
    if "**" not in pattern:
        return sorted(Path(p) for p in globlib.glob(pattern))
    pattern = os.path.normpath(pattern)
    magic = re.search(r"[*?\[]", pattern)
    assert magic is not None
    base = pattern[: magic.start()].rsplit("/", 1)[0] if "/" in pattern[: magic.start()] else ""
    root = Path(base or ".")
    if not root.is_dir():
        return []
    regex = _translate(pattern)
    matched = []
    for path in files_under(root):
        text = str(path) if base else os.path.relpath(path)
        if regex.match(text):
            matched.append(path)
    return matched


def not_regular(path: Path) -> str | None:
    """Return what ``path`` is when it exists but is neither a file nor a folder, else None."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    kinds = {
        stat.S_ISFIFO: "a named pipe (FIFO)",
        stat.S_ISCHR: "a character device",
        stat.S_ISBLK: "a block device",
        stat.S_ISSOCK: "a socket",
    }
    return next((name for test, name in kinds.items() if test(mode)), None)
