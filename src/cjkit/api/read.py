"""Reading events for every analysis: the read options (flags over a map's data block),
the one read-error boundary, and the checked collect that reports dropped rows.

Nothing here prints; the CLI turns the errors into one line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import polars as pl

from cjkit.errors import InputError, UsageError
from cjkit.io import reading, sources
from cjkit.io.files import failing_file
from cjkit.maps import loader
from cjkit.maps.schema import JourneyMap
from cjkit.timerange import zone


@dataclass(frozen=True)
class ReadOptions:
    """How to read events; ``None`` means: from the map's ``data:`` block, else the default."""

    user_col: str | None = None
    event_col: str | None = None
    time_col: str | None = None
    tz: str | None = None
    time_format: str | None = None
    table: str | None = None  # database inputs: --table T or --query SQL
    query: str | None = None
    preset: str | None = None  # --preset posthog|mixpanel|amplitude|ga4|segment|shopify
    input_format: str | None = None  # --input-format csv|tsv|ndjson|parquet (stdin: -)
    # A map (or built-in) whose data block gives the columns, zone and time format, for the
    # analyses that take no model of their own (inspect, retention, lifecycle, stickiness).
    model: str | None = None
    # A step or stage event that never occurs in the data is an error, not a warning.
    strict: bool = False
    # The share of rows (0..1) that may be dropped for no unit or no time before the read fails
    # (None: CJKIT_MAX_DROPPED, else no limit), and the name the error gives it.
    max_dropped: float | None = None
    max_dropped_name: str = "max_dropped"

    def column_map(self, model: JourneyMap | None = None) -> sources.ColumnMap:
        """Return the column map: flags first, then the map's data block, then its preset."""
        if model is None and self.model is not None:
            model = loader.load(self.model).map
        data = model.data if model is not None else None
        tz = self.tz or (data.timezone if data else "UTC")
        zone(tz)
        flags = reading.Flags(
            user=self.user_col,
            event=self.event_col,
            time=self.time_col,
            tz=self.tz,
            time_format=self.time_format,
            preset=self.preset,
            input_format=self.input_format,
            table=self.table,
            query=self.query,
        )
        cmap = reading.column_map(flags, model, tz)
        if self.max_dropped is None:
            return cmap
        if not 0 <= self.max_dropped <= 1:
            raise UsageError(
                f"{self.max_dropped_name}: expected a share in 0..1, got {self.max_dropped!r}"
            )
        return replace(cmap, max_dropped=self.max_dropped, max_dropped_name=self.max_dropped_name)

    def adapt(self, model: JourneyMap) -> JourneyMap:
        """Return ``model`` with the preset's standard event names added to its stages."""
        return reading.adapt_model(model, self.preset)


def load_model(ref: str) -> loader.LoadedMap:
    """Return a validated built-in model or map file; raise MapInvalid or ConfigError."""
    return loader.load(ref)


def read_events(
    paths: sources.Source, read: ReadOptions, model: JourneyMap | None = None
) -> sources.Events:
    """Return the canonical events of ``paths`` (files, globs, folders or a Polars frame)."""
    return sources.read(paths, read.column_map(model))


@contextmanager
def read_errors(events: sources.Events) -> Iterator[None]:
    """Turn Polars read and compute errors on ``events`` into one-line InputErrors."""
    try:
        yield
    except pl.exceptions.ColumnNotFoundError as exc:
        raise InputError(f"missing column: {sources.first_line(exc)}") from None
    except pl.exceptions.PolarsError as exc:
        raise InputError(sources.describe_read_error(_culprit(events), exc)) from None
    except OSError as exc:
        raise InputError(f"can't read the events: {exc}") from None


def _culprit(events: sources.Events) -> str:
    """Return the file a read error is about: the only one, else the first of several that
    fails on its own ("N files" when none does: the error comes from combining them)."""
    if len(events.files) == 1:
        return events.files[0]
    found = failing_file(events.files, events.per_file) if events.per_file else None
    return found or f"{len(events.files)} files"


Materialize = Callable[[pl.LazyFrame], pl.DataFrame]


def collect_checked(
    events: sources.Events, query: pl.LazyFrame | Callable[[Materialize], pl.LazyFrame]
) -> pl.DataFrame:
    """Collect ``query`` together with the data-quality check of ``events`` (one shared scan).

    ``query`` may be a function building the query, for engines that materialize an
    intermediate table: it receives the function to materialize with, which runs the quality
    check in the same scan. Raise InputError for unparseable times or a read error; record
    dropped rows as warnings.
    """
    checked: list[dict[str, object]] = []

    def materialize(frame: pl.LazyFrame) -> pl.DataFrame:
        table, quality = pl.collect_all([frame, sources.quality(events)])
        checked.append(quality.row(0, named=True))
        sources.raise_for_quality(events, checked[0])
        return table

    with read_errors(events):
        if callable(query):
            lazy = query(materialize)
            result = lazy.collect() if checked else materialize(lazy)
        else:
            result = materialize(query)
    return result
