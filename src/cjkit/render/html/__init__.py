"""The HTML report and one-analysis HTML pages: Jinja2 templates and Plotly charts.

:func:`report_html` writes every section of a :class:`~cjkit.report.report.JourneyReport`;
:func:`page_html` writes one analysis (funnel, retention, lifecycle, stickiness) with the same
look. Both need the ``report`` extra (Jinja2 and Plotly); :func:`require` says so in one line.
The pages embed plotly.js once and load nothing at view time.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

from cjkit.errors import UsageError
from cjkit.io.output import write_text
from cjkit.report import FunnelReport, LifecycleReport, Report, RetentionReport, StickinessReport
from cjkit.report.paths import PathsReport
from cjkit.report.report import JourneyReport

EXTRA_HINT = "pip install 'cjkit[report]'"
MAX_BYTES = 6_000_000


def require() -> None:
    """Raise UsageError (exit 2) naming the extra when Jinja2 or Plotly is not installed."""
    missing = [m for m in ("jinja2", "plotly") if importlib.util.find_spec(m) is None]
    if missing:
        raise UsageError(
            f"HTML output needs {' and '.join(missing)}, which are not installed: {EXTRA_HINT}"
        )


def report_html(report: JourneyReport) -> str:
    """Return the full report as one self-contained HTML page."""
    require()
    from cjkit.render.html.full import build

    return build(report)


One = FunnelReport | RetentionReport | LifecycleReport | StickinessReport | PathsReport
Page = JourneyReport | One


def write(report: Page, output: Path | None) -> None:
    """Write the HTML of ``report`` (the full report, or a one-analysis page) to ``output``
    atomically, or to stdout; warn on stderr when the file passes 6 MB (mail attachments)."""
    text = report_html(report) if isinstance(report, JourneyReport) else page_html(report)
    size = len(text.encode("utf-8"))
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        write_text(output, text)
    if size > MAX_BYTES:
        sys.stderr.write(
            f"Warning: the HTML is {size / 1e6:.1f} MB, more than {MAX_BYTES / 1e6:.0f} MB; "
            "fewer segments (--by) make it smaller\n"
        )


def page_html(report: Report | Page, lang: str = "en") -> str:
    """Return a one-analysis page (funnel, retention, lifecycle, stickiness, paths) as HTML."""
    require()
    from cjkit.render.html.single import build

    if not isinstance(report, One):
        kind: Any = getattr(report, "kind", type(report).__name__)
        raise UsageError(
            f"--format html: not available for {kind}; it is for funnel, retention, lifecycle, "
            "stickiness and report"
        )
    return build(report, lang)
