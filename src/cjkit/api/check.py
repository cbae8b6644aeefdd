"""Library entry point for ``cjkit check``: the map's targets on the events, and against a
baseline run. Nothing here prints."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from cjkit.api.core import ReadOptions
from cjkit.api.metrics import MetricsOptions, run
from cjkit.api.targets import evaluate, read_baseline
from cjkit.report.metrics import CheckReport


@dataclass(frozen=True)
class CheckOptions:
    """The flags of ``cjkit check``."""

    model: str
    baseline: str | None = None
    since: str | None = None
    until: str | None = None
    spend: str | None = None
    strict: bool = False
    read: ReadOptions = field(default_factory=ReadOptions)


def check(paths: Sequence[str], options: CheckOptions) -> CheckReport:
    """Return the map's targets evaluated on the events under ``paths``."""
    baseline = read_baseline(options.baseline) if options.baseline else None
    report, loaded, _ = run(
        paths,
        MetricsOptions(
            model=options.model,
            since=options.since,
            until=options.until,
            spend=options.spend,
            read=options.read,
        ),
        breakdowns=False,
    )
    warnings = list(report.warnings)
    if not loaded.map.targets:
        warnings.append(f"{loaded.display}: the map has no targets; nothing to check")
    if baseline is not None and (baseline.get("model") or {}).get("id") != loaded.map.id:
        warnings.append(
            f"--baseline {options.baseline} was made with model "
            f"'{(baseline.get('model') or {}).get('id')}', not '{loaded.map.id}'"
        )
    return CheckReport(
        model=report.model,
        map_file=loaded.display,
        baseline=options.baseline,
        source=report.source,
        checks=evaluate(report, loaded, baseline),
        strict=options.strict,
        warnings=warnings,
    )
