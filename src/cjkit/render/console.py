"""The rich consoles: stdout for data, stderr for messages and progress."""

from __future__ import annotations

import io
import os
import shutil

from rich.console import Console, RenderableType


def _width(width: int | None) -> int:
    if width:
        return width
    env = os.environ.get("COLUMNS")
    if env and env.isdigit():
        return int(env)
    return max(80, shutil.get_terminal_size((100, 24)).columns)


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


def progress_console() -> Console:
    """Return the stderr console used for progress (it shows nothing when stderr is no TTY)."""
    return Console(stderr=True, highlight=False)
