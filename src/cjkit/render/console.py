"""The rich consoles: stdout for data, stderr for messages and progress."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import sys
import threading
from collections.abc import Iterator

from rich.console import Console, RenderableType


def _width(width: int | None) -> int:
    if width:
        return width
    env = os.environ.get("COLUMNS")
    if env and env.isdigit():
        return int(env)
    return max(80, shutil.get_terminal_size((100, 24)).columns)


def console_width() -> int:
    """Return the width tables are drawn at: $COLUMNS, else the terminal's, at least 80."""
    return _width(None)


def capture(renderable: RenderableType, *, color: bool | None, width: int | None = None) -> str:
    """Return ``renderable`` drawn as text; ANSI codes only when ``color`` is True."""
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=_width(width),
        force_terminal=bool(color),
        no_color=not color,
        color_system="auto" if color else None,
        highlight=False,
        soft_wrap=False,
        legacy_windows=False,
    )
    console.print(renderable)
    return buffer.getvalue()


def print_out(renderable: RenderableType, *, color: bool | None) -> None:
    """Print ``renderable`` to stdout (a terminal)."""
    Console(highlight=False, no_color=color is False, force_terminal=color).print(renderable)


@contextlib.contextmanager
def busy(message: str, *, delay: float = 0.7) -> Iterator[None]:
    """Show a spinner on stderr while the block runs, only on a TTY and only after ``delay`` s.

    Short commands print nothing extra; redirected stderr (CI logs) never gets progress.
    """
    if not sys.stderr.isatty() or os.environ.get("CI"):
        yield
        return
    console = Console(stderr=True, highlight=False)
    status = console.status(message, spinner="dots")
    timer = threading.Timer(delay, status.start)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        status.stop()
