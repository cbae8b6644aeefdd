"""Library entry point for ``cjkit report``: every section of the HTML report from one run.

:func:`report` runs the metrics report of a model (one scan of the events, see
:func:`cjkit.api.metrics.metrics_frames`) and asks that same scan for lifecycle and stickiness
over every event. Conversion by entry period and the time-to-convert histograms are phase-2
views of the funnel's per-unit table that the run already holds. Nothing here prints or renders.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import polars as pl

from cjkit import __version__
from cjkit.api.core import ReadOptions
from cjkit.api.metrics import MetricsOptions, metrics_frames
from cjkit.canonical import Period, WeekStart
from cjkit.engine.cohorts import lifecycle as lifecycle_engine
from cjkit.engine.cohorts import retention as retention_engine
from cjkit.engine.report import views
from cjkit.errors import CjkitError
from cjkit.maps import loader
from cjkit.report.report import HistogramBin, JourneyReport, TimeHistogram, TrendPeriod
from cjkit.timerange import parse_range

# Paths in the report: the first steps of each unit's journey, the busiest links only.
PATH_STEPS = 4
PATH_TOP = 40
ALL_FINDINGS = 10_000
_LIFECYCLE = "report:lifecycle"
_STICKINESS = "report:stickiness"


@dataclass(frozen=True)
class ReportOptions:
    """The flags of ``cjkit report``; ``command`` is the command line shown in the header."""

    model: str
    by: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None
    spend: str | None = None
    compare: str | None = None
    lang: str = "en"
    command: str = ""
    diagnose: bool = True  # the findings of cjkit diagnose at the top (a second, funnel scan)
    paths: bool = True  # paths between the stages' events as a Sankey (a scan of its own)
    read: ReadOptions = field(default_factory=ReadOptions)


def stage_labels(model: str, lang: str) -> dict[str, str]:
    """Return stage id → display name in ``lang`` (the model's ``labels``, else its name)."""
    stages = loader.load(model).map.stages
    return {s.id: (s.labels.get(lang) or s.name) for s in stages}


def _activity_spec(options: ReportOptions, period: Period) -> lifecycle_engine.ActivitySpec:
    loaded = loader.load(options.model)
    column_map = options.read.column_map(loaded.map)
    time_range = parse_range(options.since, options.until, column_map.tz)
    # Lifecycle and stickiness cut days, weeks or months; a quarterly model reads them weekly.
    activity: Period = "week" if period == "quarter" else period
    return lifecycle_engine.ActivitySpec(
        event=None,
        period=activity,
        week_start=loaded.map.settings.week_start,
        tz=column_map.tz,
        since=time_range.since,
        until=time_range.until,
    )


def report(paths: Sequence[str], options: ReportOptions) -> JourneyReport:
    """Return every section of the report of ``options.model`` on the events under ``paths``."""
    loaded = loader.load(options.model)
    period = loaded.map.settings.period
    spec = _activity_spec(options, period)

    def extra(clean: pl.LazyFrame) -> dict[str, pl.LazyFrame]:
        life = lifecycle_engine.lifecycle_query(clean, spec)
        stick = lifecycle_engine.stickiness_query(clean, spec)
        return {_LIFECYCLE: retention_engine.pack(life), _STICKINESS: retention_engine.pack(stick)}

    mopts = MetricsOptions(
        model=options.model,
        by=options.by,
        since=options.since,
        until=options.until,
        spend=options.spend,
        read=options.read,
    )
    metrics, frames = metrics_frames(paths, mopts, extra)
    settings = {
        "event": "*",
        "period": spec.period,
        "week_start": spec.week_start,
        "timezone": spec.tz,
        "since": metrics.settings.get("since"),
        "until": metrics.settings.get("until"),
    }
    life = lifecycle_engine.lifecycle_report(
        retention_engine.unpack(frames[_LIFECYCLE]), spec, {**settings, "new_basis": "event"}
    )
    stick = lifecycle_engine.stickiness_report(
        retention_engine.unpack(frames[_STICKINESS]), spec, settings
    )
    journeys = frames["journeys"].lazy()
    n = len(metrics.stages)
    end = metrics.source.get("end")
    trend = views.trends(
        journeys,
        n,
        period=cast(Period, metrics.settings["period"]),
        tz=str(metrics.settings["timezone"]),
        week_start=cast(WeekStart, metrics.settings["week_start"]),
        window_s=int(metrics.settings["window_seconds"] or 0),
        data_end=datetime.fromisoformat(end) if end else None,
    )
    hist = views.ttc_histograms(journeys, n)
    meta: dict[str, Any] = {
        "cjkit_version": __version__,
        "generated_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "command": options.command,
        "lang": options.lang,
    }
    findings, paths_doc, more, omitted = _optional(paths, options)
    return JourneyReport(
        metrics=metrics,
        trend_period=str(metrics.settings["period"]),
        trends=[
            TrendPeriod(
                period=r["period"].isoformat(),
                complete=bool(r["complete"]),
                entered=int(r["entered"]),
                reached=[int(r[f"reached_{k}"]) for k in range(1, n + 1)],
            )
            for r in trend.iter_rows(named=True)
        ],
        histograms=[
            TimeHistogram(
                step=k,
                stage=metrics.stages[k - 1].id,
                bins=[
                    HistogramBin(int(b["lo_s"]), b["hi_s"], int(b["units"]))
                    for b in hist.filter(pl.col("step") == k).iter_rows(named=True)
                ],
            )
            for k in range(2, n + 1)
        ],
        lifecycle=life,
        stickiness=stick,
        meta=meta,
        labels=stage_labels(options.model, options.lang),
        findings=findings,
        paths=paths_doc,
        warnings=[*metrics.warnings, *life.warnings, *more],
        omitted=omitted,
    )


def _optional(
    paths: Sequence[str], options: ReportOptions
) -> tuple[dict[str, Any] | None, dict[str, Any] | None, list[str], list[str]]:
    """Return the diagnose and paths documents the options ask for, their warnings, and the
    sections left out with the reason (shown in the page's footer and on stderr).

    Diagnose needs scipy (the ``stats`` extra): without it the report leaves the findings out
    and says so in a warning rather than failing.
    """
    import importlib.util

    findings = paths_doc = None
    warnings: list[str] = []
    omitted: list[str] = []
    if options.diagnose:
        if importlib.util.find_spec("scipy") is None:
            omitted.append("findings: cjkit diagnose needs scipy (pip install 'cjkit[stats]')")
        else:
            from cjkit.api.diagnose import DiagnoseOptions, diagnose

            try:
                found = diagnose(
                    paths,
                    DiagnoseOptions(
                        model=options.model,
                        by=options.by,
                        since=options.since,
                        until=options.until,
                        compare=options.compare,
                        targets=False,  # the report has its own targets section
                        # Every finding: the page lists the first ones and marks every
                        # significant segment cell in the heatmaps.
                        limit=ALL_FINDINGS,
                        read=options.read,
                    ),
                )
            except CjkitError as exc:
                # The rest of the report stands on its own: say why the findings are missing.
                omitted.append(f"findings: {exc}")
            else:
                findings = found.to_dict()
                warnings.extend(found.warnings)
    if options.paths:
        from cjkit.api.core import FunnelOptions
        from cjkit.api.paths import PathsOptions
        from cjkit.api.paths import paths as run_paths

        flows = run_paths(
            paths,
            PathsOptions(
                steps=PATH_STEPS,
                top=PATH_TOP,
                funnel=FunnelOptions(
                    model=options.model,
                    since=options.since,
                    until=options.until,
                    read=options.read,
                ),
            ),
        )
        paths_doc = flows.to_dict()
    return findings, paths_doc, warnings, omitted
