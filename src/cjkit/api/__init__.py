"""The library: options in, a report out. The CLI and notebooks call the same functions.

Each function takes paths (or a model reference) plus options, plans one lazy query, and returns
a report from :mod:`cjkit.report`. Nothing here prints.
"""

from cjkit.api.check import CheckOptions, check
from cjkit.api.clv import ClvOptions, ClvRun, clv
from cjkit.api.cohorts import (
    ACTIVITY_PERIODS,
    ANY,
    COHORTS,
    NEW_BASES,
    ActivityOptions,
    RetentionOptions,
    activity_spec,
    lifecycle,
    retention,
    retention_spec,
    stickiness,
)
from cjkit.api.core import (
    FunnelOptions,
    FunnelRun,
    ReadOptions,
    collect_checked,
    funnel,
    funnel_spec,
    inspect,
    load_model,
    model_show,
    models_list,
    read_errors,
    read_events,
    validate,
)
from cjkit.api.diagnose import DiagnoseOptions, diagnose
from cjkit.api.insight import InsightOptions
from cjkit.api.journey import JourneyOptions, journey
from cjkit.api.metrics import MetricsOptions, metrics
from cjkit.api.paths import PathsOptions, paths
from cjkit.api.report import ReportOptions, report
from cjkit.api.spend import read_spend
from cjkit.api.targets import evaluate, lookup, read_baseline

__all__ = [
    "ACTIVITY_PERIODS",
    "ANY",
    "COHORTS",
    "NEW_BASES",
    "ActivityOptions",
    "CheckOptions",
    "ClvOptions",
    "ClvRun",
    "DiagnoseOptions",
    "FunnelOptions",
    "FunnelRun",
    "InsightOptions",
    "JourneyOptions",
    "MetricsOptions",
    "PathsOptions",
    "ReadOptions",
    "ReportOptions",
    "RetentionOptions",
    "activity_spec",
    "check",
    "clv",
    "collect_checked",
    "diagnose",
    "evaluate",
    "funnel",
    "funnel_spec",
    "inspect",
    "journey",
    "lifecycle",
    "load_model",
    "lookup",
    "metrics",
    "model_show",
    "models_list",
    "paths",
    "read_baseline",
    "read_errors",
    "read_events",
    "read_spend",
    "report",
    "retention",
    "retention_spec",
    "stickiness",
    "validate",
]
