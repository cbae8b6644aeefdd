"""The environment variables cjkit reads, checked once at the start of every command.

``CJKIT_MEMORY_LIMIT`` (``8G``, ``512M``, ``16GiB``) caps the memory a run plans its passes
for; ``CJKIT_MAX_DROPPED`` (``1%``) makes dropping more rows than that (no unit or no time) an
error. A bad value is a UsageError (exit 2) whatever the command, not only in the commands that
happen to plan passes. Kept free of polars so the check costs nothing in ``--help``.
"""

from __future__ import annotations

import os
import re

from cjkit.errors import UsageError

MEMORY_LIMIT = "CJKIT_MEMORY_LIMIT"
MAX_DROPPED = "CJKIT_MAX_DROPPED"
WARN_DROPPED = 0.05  # a share of dropped rows above this is always worth a warning
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*$", re.IGNORECASE)
_MIN_LIMIT = 1024**2


def parse_size(text: str, variable: str = MEMORY_LIMIT) -> int:
    """Return the bytes of a size such as ``8G``, ``512M`` or ``16GiB``; raise UsageError."""
    match = _SIZE.match(text)
    if not match:
        raise UsageError(f"{variable}: expected a size such as 8G, 512M or 16GiB, got {text!r}")
    scale = 1024 ** "BKMGT".index((match[2] or "B").upper())
    size = int(float(match[1]) * scale)
    if size < _MIN_LIMIT:
        raise UsageError(f"{variable}: expected at least 1M, got {text!r}")
    return size


def parse_share(text: str, name: str = MAX_DROPPED) -> float:
    """Return a share such as ``1%``, ``0.5%`` or ``0.01`` as a fraction in [0, 1]."""
    raw = text.strip()
    try:
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise UsageError(f"{name}: expected a share such as 1% or 0.01, got {text!r}")
    return value


def max_dropped() -> float | None:
    """Return the share of rows that may be dropped (no unit or no time) before a run fails:
    ``CJKIT_MAX_DROPPED`` (``1%``), or None for no limit."""
    text = os.environ.get(MAX_DROPPED)
    return parse_share(text) if text else None


def check_environment() -> None:
    """Raise UsageError for the first CJKIT_* variable with a value cjkit can't use."""
    limit = os.environ.get(MEMORY_LIMIT)
    if limit is not None and limit != "":
        parse_size(limit)
    max_dropped()
