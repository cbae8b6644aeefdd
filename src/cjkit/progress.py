"""Progress phases, free of any UI: the layers name what they do, a listener may show it.

The api and engine call :func:`phase` ("reading events", "building journeys", …); the CLI's
spinner (``cjkit.render.console.busy``) listens and shows the phase on stderr. :func:`clear`
removes the indicator for good before anything is written to stdout or stderr, so progress
never mixes with data or messages. Without a listener both calls do nothing.
"""

from __future__ import annotations

from collections.abc import Callable

_LISTENER: dict[str, Callable[[str | None], None] | None] = {"fn": None}


def listen(listener: Callable[[str | None], None] | None) -> None:
    """Set (or with None remove) the listener; it gets a phase name, or None to clear."""
    _LISTENER["fn"] = listener


def phase(name: str) -> None:
    """Report that the run entered phase ``name`` (short, lower case)."""
    fn = _LISTENER["fn"]
    if fn is not None:
        fn(name)


def clear() -> None:
    """Remove the progress indicator before output is written; later phases show nothing."""
    fn = _LISTENER["fn"]
    if fn is not None:
        fn(None)
