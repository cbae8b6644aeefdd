"""cjkit on Spark, for your own Spark jobs and notebooks (``pip install 'cjkit[spark]'``).

    from cjkit import spark as cjspark
    units = cjspark.journeys(events_df, spec)          # a pyspark DataFrame, one row per unit
    report = cjspark.funnel_report(units, spec)        # phase 2 in Polars: a FunnelReport

``events_df`` holds canonical events: the unit column (``spec.unit``, ``user_id`` by default),
``event`` (string) and ``timestamp`` (a Spark TIMESTAMP), plus the properties the spec reads.
Phase 1 runs the local engine's Polars code per unit-hash bucket on the executors, so the
numbers are the local engine's, unit by unit. pyspark is imported only when these run; cjkit
and polars must be installed where the executors' Python runs.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from cjkit.engine.cohorts.retention import RetentionSpec
from cjkit.engine.funnel import summary as funnel_summary
from cjkit.engine.funnel.journeys import Exclusion, FunnelSpec, Step
from cjkit.engine.spark import buckets as _buckets
from cjkit.engine.spark.session import parse_conf, require, session
from cjkit.report.core import FunnelReport

__all__ = [
    "Exclusion",
    "FunnelSpec",
    "RetentionSpec",
    "Step",
    "funnel_report",
    "journeys",
    "parse_conf",
    "require",
    "retention_parts",
    "session",
    "to_polars",
]


def _buckets_for(frame: Any, buckets: int | None) -> int:
    if buckets is not None:
        return max(1, int(buckets))
    return _buckets.bucket_count(frame.sparkSession, frame.count())


def journeys(spark_df: Any, spec: FunnelSpec, *, buckets: int | None = None) -> Any:
    """Return phase 1 of the funnel ``spec`` as a pyspark DataFrame, one row per unit that
    entered it: ``unit``, ``level``, ``excluded``, ``t_1``…``t_n`` (µs since the epoch) and the
    breakdowns. ``buckets`` defaults to a count from the data size and the parallelism."""
    return _buckets.journeys(spark_df, spec, _buckets_for(spark_df, buckets))


def to_polars(spark_df: Any) -> pl.DataFrame:
    """Return a (small) Spark DataFrame on the driver as a Polars DataFrame, through Arrow."""
    frame = pl.from_arrow(spark_df.toArrow())
    assert isinstance(frame, pl.DataFrame)
    return frame


def funnel_report(
    units: Any, spec: FunnelSpec, settings: dict[str, Any] | None = None
) -> FunnelReport:
    """Return the funnel report (phase 2, in Polars) of :func:`journeys`' per-unit table."""
    table = units if isinstance(units, pl.DataFrame) else to_polars(units)
    return funnel_summary.summarize(table, spec, settings or {})


def retention_parts(
    spark_df: Any, spec: RetentionSpec, *, buckets: int | None = None
) -> dict[str, pl.DataFrame]:
    """Return the retention parts (``bounds``, ``cells``, ``churn``) of ``spec`` computed per
    bucket on Spark and merged on the driver; ``retention_report`` turns them into a report."""
    return _buckets.retention_parts(spark_df, spec, _buckets_for(spark_df, buckets))
