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

from cjkit.text import escape_controls, terminal_safe


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
    # Event names and property values come from the data: their control characters are
    # shown escaped (\x1b), never sent to the terminal.
    text = buffer.getvalue()
    return terminal_safe(text) if color else escape_controls(text)


def print_out(renderable: RenderableType, *, color: bool | None) -> None:
    """Print ``renderable`` to stdout (a terminal), control characters from the data escaped."""
    console = Console(highlight=False, no_color=color is False, force_terminal=color)
    with console.capture() as captured:
        console.print(renderable)
    sys.stdout.write(terminal_safe(captured.get()))
    sys.stdout.flush()


_FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class _Spinner:
    """A one-line spinner on stderr, drawn by a daemon thread; never touches stdout."""

    def __init__(self, message: str, delay: float) -> None:
        self.message = message
        self.phase = ""
        self.delay = delay
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.drawn = False
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        if self.done.wait(self.delay):
            return
        frame = 0
        while not self.done.is_set():
            with self.lock:
                if self.done.is_set():
                    return
                text = self.message + (f" ({self.phase})" if self.phase else "")
                sys.stderr.write(f"\r{_FRAMES[frame % len(_FRAMES)]} {text}\x1b[K")
                sys.stderr.flush()
                self.drawn = True
            frame += 1
            self.done.wait(0.1)

    def update(self, name: str | None) -> None:
        if name is None:
            self.stop()
        else:
            self.phase = name

    def stop(self) -> None:
        with self.lock:
            if self.done.is_set():
                return
            self.done.set()
            if self.drawn:
                sys.stderr.write("\r\x1b[K")
                sys.stderr.flush()


@contextlib.contextmanager
def busy(message: str, *, delay: float = 0.7) -> Iterator[None]:
    """Show a spinner with the current phase on stderr while the block runs.

    Only when stderr is a terminal (never in CI logs), only after ``delay`` seconds, and it is
    cleared before output: :func:`cjkit.progress.clear` stops it, and so does leaving the block.
    stdout is never redirected or wrapped, so data written there reaches its file or pipe.
    """
    from cjkit import progress

    if not sys.stderr.isatty() or os.environ.get("CI"):
        yield
        return
    spinner = _Spinner(message.rstrip("…"), delay)
    progress.listen(spinner.update)
    spinner.thread.start()
    try:
        yield
    finally:
        spinner.stop()
        progress.listen(None)
