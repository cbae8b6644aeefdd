"""Output formats beyond table/json/csv/markdown, and the GitHub step summary.

:func:`cjkit.render.emit` looks up ``<kind>_<format>(report) -> str`` here for any format it
does not draw itself, so a command that offers ``--format github`` or ``yaml`` just calls
``emit`` like every other command.
"""

from __future__ import annotations

import os
from typing import Any

from cjkit.errors import OutputError
from cjkit.report.core import ModelReport, ValidateReport
from cjkit.report.metrics import CheckReport


def validate_github(report: ValidateReport) -> str:
    """Return validation problems as GitHub ``::error``/``::warning`` annotations."""
    from cjkit.render.github import validate_annotations

    return validate_annotations(report)


def check_github(report: CheckReport) -> str:
    """Return the failed targets as GitHub annotations at their lines in the map."""
    from cjkit.render.metrics import check_annotations

    return check_annotations(report)


def model_yaml(report: ModelReport) -> str:
    """Return a model's stages as YAML, without the derived event names and metrics."""
    import yaml

    model = dict(report.model)
    model["stages"] = [
        {k: v for k, v in stage.items() if k not in ("event_names", "metrics")}
        for stage in model["stages"]
    ]
    return yaml.safe_dump(model, sort_keys=False, allow_unicode=True)


def _html(report: Any) -> str:
    from cjkit.render.html import page_html

    return page_html(report)


# --format html: a one-analysis page with the look of ``cjkit report`` (cjkit.render.html).
funnel_html = retention_html = lifecycle_html = stickiness_html = paths_html = _html


def report_html(report: Any) -> str:
    """Return the full HTML report of ``cjkit report``."""
    from cjkit.render.html import report_html as full

    return full(report)


def append_step_summary(report: CheckReport) -> str | None:
    """Append the check's Markdown to ``$GITHUB_STEP_SUMMARY``; return a warning if unset.

    Raises OutputError when the file can't be appended to.
    """
    from cjkit.render.metrics import check_markdown

    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return "$GITHUB_STEP_SUMMARY is not set; no summary written"
    try:
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(check_markdown(report))
    except OSError as exc:
        raise OutputError(
            f"can't append to $GITHUB_STEP_SUMMARY ({target}): {exc.strerror}"
        ) from None
    return None
