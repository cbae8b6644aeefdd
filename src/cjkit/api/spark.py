"""``--engine local|spark``: the funnel and retention reports, phase 1 here or on Spark.

The options, specs, settings and phase 2 are the local engine's (:func:`cjkit.api.funnel`,
:func:`cjkit.api.retention`); only the reading and the per-unit phase run on Spark (see
:mod:`cjkit.engine.spark`). The per-unit table comes back to the driver through Arrow, or, for
inputs above :data:`SPILL_ROWS` events, through Parquet under ``spark.cjkit.spillPath`` (a
folder the driver can read; a temporary folder in local mode).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import polars as pl

from cjkit.api.cohorts import RetentionOptions, _label, retention_spec
from cjkit.api.cohorts import retention as core_retention
from cjkit.api.core import FunnelOptions, FunnelRun, funnel_spec, load_model
from cjkit.api.core import funnel as core_funnel
from cjkit.canonical import USER
from cjkit.engine.cohorts import retention as retention_engine
from cjkit.engine.funnel import summary as funnel_engine
from cjkit.engine.funnel.journeys import FunnelSpec
from cjkit.engine.spark import buckets, inputs
from cjkit.engine.spark import session as spark_session
from cjkit.errors import UsageError
from cjkit.io import sources
from cjkit.maps.schema import JourneyMap
from cjkit.report.cohorts import RetentionReport
from cjkit.report.core import FunnelReport
from cjkit.timerange import TimeRange, parse_range

ENGINES = ("local", "spark")
SPILL_ROWS = 500_000_000


@dataclass(frozen=True)
class EngineOptions:
    """Where phase 1 runs: ``local`` (this process) or ``spark`` (master URL and settings)."""

    engine: str = "local"
    master: str = "local[*]"
    conf: tuple[str, ...] = field(default=())

    @property
    def spark(self) -> bool:
        """Return whether phase 1 runs on Spark; raise UsageError for an unknown engine."""
        if self.engine not in ENGINES:
            raise UsageError(
                f"engine: expected one of {', '.join(ENGINES)}, got {self.engine!r}",
                option="engine",
            )
        return self.engine == "spark"

    def session(self) -> Any:
        """Return the SparkSession (checks pyspark and Java first: one line, exit 2)."""
        return spark_session.session(self.master, spark_session.parse_conf(self.conf))


def _events(
    engine: EngineOptions, paths: Sequence[str], cmap: sources.ColumnMap
) -> tuple[Any, int, list[str]]:
    spark = engine.session()
    frame = inputs.read(spark, paths, cmap)
    rows, no_unit, no_time = inputs.dropped(frame)
    warnings = []
    if no_unit or no_time:
        warnings.append(
            f"dropped {no_unit + no_time:,} row(s) with no unit or no time "
            f"({no_unit:,} without a unit, {no_time:,} without a time)"
        )
    return frame, rows, warnings


def _collect(units: Any, rows: int) -> pl.DataFrame:
    """Return the per-unit Spark table on the driver: Arrow when small, else via Parquet."""
    spark = units.sparkSession
    if rows <= SPILL_ROWS:
        frame = pl.from_arrow(units.toArrow())
        assert isinstance(frame, pl.DataFrame)
        return frame
    base = spark.conf.get("spark.cjkit.spillPath", None)
    if base is None and not spark.sparkContext.master.startswith("local"):
        raise UsageError(
            "the per-unit table is too big to collect: set {conf} "
            "spark.cjkit.spillPath=DIR (a folder the driver and executors share)",
            options=("conf",),
        )
    folder = base or tempfile.mkdtemp(prefix="cjkit-units-")
    units.write.mode("overwrite").parquet(folder)
    return pl.scan_parquet(f"{folder}/*.parquet").collect()


def _funnel_settings(
    spec: FunnelSpec,
    options: FunnelOptions,
    model: JourneyMap | None,
    tz: str,
    time_range: TimeRange,
) -> dict[str, Any]:
    # The report's settings block, as cjkit.api.funnel writes it (the equality tests compare
    # whole reports, so any drift between the two fails them).
    return {
        "order": spec.order,
        "window_seconds": spec.window_s,
        "window_anchor": spec.anchor,
        "allow_event_reuse": spec.allow_event_reuse,
        "strict_increase": spec.strict_increase,
        "exclusions": [
            {"event": e.label or e.matchers[0].name, "from_step": e.start, "to_step": e.end}
            for e in spec.exclusions
        ],
        "unit": spec.unit,
        "attribution": options.attribution,
        "model": model.id if model else None,
        "timezone": tz,
        **time_range.as_dict(),
    }


def funnel(paths: Sequence[str], options: FunnelOptions, engine: EngineOptions) -> FunnelRun:
    """Return the funnel report for ``paths`` on ``engine`` (Spark's equals the local one)."""
    if not engine.spark:
        return core_funnel(paths, options)
    if options.insight is not None and options.insight.active():
        raise UsageError(
            "engine spark: the insight flags ({compare}, {trend} …) run locally",
            option="engine",
            options=("compare", "trend"),
        )
    loaded = load_model(options.model) if options.model else None
    model = options.read.adapt(loaded.map) if loaded else None
    column_map = options.read.column_map(model)
    time_range = parse_range(options.since, options.until, column_map.tz)
    unit = options.aggregate_by or USER
    spec = funnel_spec(options, model, time_range, unit)
    frame, rows, warnings = _events(engine, paths, column_map)
    missing = [c for c in spec.columns() if c not in frame.columns]
    if missing:
        raise UsageError(
            f"no column '{missing[0]}' in the events (columns: {', '.join(frame.columns)})"
        )
    count = buckets.bucket_count(frame.sparkSession, rows)
    units = _collect(buckets.journeys(frame, spec, count), rows)
    settings = _funnel_settings(spec, options, model, column_map.tz, time_range)
    report = funnel_engine.summarize(units, spec, settings)
    shown = [column_map.table] if column_map.table else list(paths)
    report = replace(report, source={"files": shown})
    return FunnelRun(report, units, spec, column_map.user, warnings)


def retention(
    paths: Sequence[str], options: RetentionOptions, engine: EngineOptions
) -> RetentionReport:
    """Return the retention report for ``paths`` on ``engine`` (per-unit work on Spark)."""
    if not engine.spark:
        return core_retention(paths, options)
    column_map = options.read.column_map()
    time_range = parse_range(options.since, options.until, column_map.tz)
    spec = retention_spec(options, column_map.tz, time_range)
    frame, rows, warnings = _events(engine, paths, column_map)
    missing = [c for c in spec.columns() if c not in frame.columns]
    if missing:
        raise UsageError(
            f"no column '{missing[0]}' in the events (columns: {', '.join(frame.columns)})"
        )
    parts = buckets.retention_parts(frame, spec, buckets.bucket_count(frame.sparkSession, rows))
    settings: dict[str, Any] = {
        "start_event": _label(spec.start, options.start_event),
        "return_event": _label(spec.returns, options.return_event),
        "period": spec.period,
        "periods": spec.periods,
        "cohort": spec.cohort,
        "cumulative": spec.cumulative,
        "week_start": spec.week_start,
        "timezone": spec.tz,
        **time_range.as_dict(),
    }
    report = retention_engine.retention_report(parts, spec, settings)
    shown = [column_map.table] if column_map.table else list(paths)
    return replace(report, source={"files": shown}, warnings=[*warnings, *report.warnings])


__all__ = ["ENGINES", "EngineOptions", "FunnelReport", "funnel", "retention"]
