"""The command line: typer only. Each command parses flags, calls one ``cjkit.api`` function
and hands the result to ``cjkit.render``. ``run`` is the console script.

How to add to it:

- **A command**: create ``cjkit/cli/<feature>.py`` with ``from cjkit.cli.app import app,
  reported, warn`` and ``@app.command()`` functions, then import the module below (the import
  order is the order in ``cjkit --help``). Keep the body thin: ``with reported("Doing X…"):``,
  import ``cjkit.api`` inside it (never polars, rich or the engine at module level, so
  ``cjkit --help`` stays fast), call ONE api function, ``warn(report.warnings)``, then
  ``emit(report, fmt, output, no_color=no_color)``.
- **A flag several commands share**: add an ``Annotated`` alias in ``cjkit/cli/options.py``
  (e.g. ``MaxDroppedOpt = Annotated[str | None, typer.Option("--max-dropped", help=...)]``) and
  use it as a parameter type in each command (``max_dropped: MaxDroppedOpt = None``). Reading
  flags go through ``options.read_options``; add new ones there and in ``api.ReadOptions``.

Modules: ``app`` (the typer app, root callback, the error boundary ``reported``, ``main``),
``options`` (shared aliases, ``read_options``, ``emit``), and one module per feature.
"""

from cjkit.cli.app import app, main, run

# The command modules register on ``app`` when imported; this import order is the help order.
# isort: off
from cjkit.cli import maps
from cjkit.cli import inspect
from cjkit.cli import funnel
from cjkit.cli import cohorts
from cjkit.cli import metrics
from cjkit.cli import config
from cjkit.cli import diagnose
from cjkit.cli import clv
from cjkit.cli import paths
from cjkit.cli import report

# isort: on
__all__ = [
    "app",
    "clv",
    "cohorts",
    "config",
    "diagnose",
    "funnel",
    "inspect",
    "main",
    "maps",
    "metrics",
    "paths",
    "report",
    "run",
]
