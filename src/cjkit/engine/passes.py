"""How much of the machine's memory a run may use, and how many passes over the units that means.

The funnel engine holds one pass's step events in memory at a time (sorted, with positions and
flags): the whole process peaked at about 50 bytes per input event on 100M events
(``benchmarks/RESULTS.md``). A pass is planned at 100 bytes per event, twice that, so other
processes and allocator slack fit too. Retention holds one row per (unit, period) instead, and
peaked at about 17 bytes per event on 1B events in one pass: it is planned at 40. ``cjkit
metrics`` peaked at about 1.1 GiB plus 60 bytes per event of a pass (100M events: 6.7 GiB in
one pass, 4.3 in two, 3.0 to 4.1 in three), and each pass more cost it only 1–2% more CPU, so
it is planned at 750 bytes per event: a pass holds about a twelfth of the available memory,
and 100M events (four passes) fit in 4 GiB on a 24 GiB machine (``benchmarks/README.md``).

``CJKIT_MEMORY_LIMIT`` (``8G``, ``512M``, ``16GiB``) caps the memory a run plans for, on a
machine shared with other jobs.
"""

from __future__ import annotations

import contextlib
import math
import os
from pathlib import Path

import polars as pl

from cjkit.environment import MEMORY_LIMIT, parse_size

BYTES_PER_EVENT = 100
RETENTION_BYTES_PER_EVENT = 40
METRICS_BYTES_PER_EVENT = 750
MIN_EVENTS_PER_PASS = 10_000_000
FALLBACK_BYTES = 8 * 1024**3  # when the platform does not say
LIMIT_VARIABLE = MEMORY_LIMIT


def available_bytes() -> int:
    """Return the memory a run may plan for: the memory available to new allocations (Linux
    ``MemAvailable``), capped by ``CJKIT_MEMORY_LIMIT`` when it is set."""
    limit = os.environ.get(LIMIT_VARIABLE)
    free = _free_bytes()
    return min(free, parse_size(limit)) if limit else free


def _free_bytes() -> int:
    # Linux says what new allocations can get; elsewhere (or if it can't be read) sysconf's
    # free pages, which leave out the page cache, are the cautious answer.
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return FALLBACK_BYTES


def passes_for(
    events: int, available: int | None = None, bytes_per_event: int = BYTES_PER_EVENT
) -> int:
    """Return how many passes over disjoint sets of units keep ``events`` within memory."""
    budget = (available_bytes() if available is None else available) // bytes_per_event
    return max(1, math.ceil(events / max(budget, MIN_EVENTS_PER_PASS)))


def split_units(frame: pl.LazyFrame, unit: str, passes: int) -> list[pl.LazyFrame]:
    """Return ``frame`` in ``passes`` parts split by a hash of ``unit``, each unit's rows all in
    one part (``[frame]`` for one pass)."""
    if passes <= 1:
        return [frame]
    return [frame.filter(pl.col(unit).hash(seed=0) % passes == i) for i in range(passes)]
