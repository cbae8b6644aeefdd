"""The shared vocabulary: canonical column names, period types and small constants.

Every layer imports these from here and nowhere else defines them (tests/test_layers.py checks).
This module holds names only: no behaviour, and it imports nothing from cjkit.

Two kinds of column names, kept apart on purpose:

- the **input columns** every source is read into (cjkit.io renames the mapped columns to these):
  ``USER``, ``EVENT`` and ``TIME``. The metrics hub, retention and lifecycle group by ``USER``;
- the **internal per-unit columns** of the funnel, paths and CLV frames, which copy the analysis
  unit (``--unit``: ``user_id`` by default, or any other column) under a fixed name: ``UNIT``,
  with ``UID`` its dense integer id and ``T`` its event time.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

# The input columns (after reading): who, what and when.
USER = "user_id"
EVENT = "event"
TIME = "timestamp"

# The internal per-unit columns of the funnel, paths and CLV frames.
UNIT = "unit"  # the analysis unit's value, whichever column it came from
UID = "uid"  # a dense integer id per unit (consecutive in the unit-sorted frame)
T = "t"  # the event time in those frames

# Period types.
Period = Literal["day", "week", "month", "quarter"]
WeekStart = Literal["monday", "sunday"]
PERIODS: tuple[Period, ...] = ("day", "week", "month", "quarter")
WEEK_STARTS: tuple[WeekStart, ...] = ("monday", "sunday")

# Times are microseconds: the last instant before a bound is the bound minus ONE_US.
ONE_US = timedelta(microseconds=1)

# The hint of every error that needs the optional statistics dependencies.
STATS_HINT = "pip install 'cjkit[stats]'"
