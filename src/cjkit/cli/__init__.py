"""The command line: typer only. Each command parses flags, calls one ``cjkit.api`` function
and hands the result to ``cjkit.render``. ``cjkit.cli.app`` holds the app and the error
boundary; ``run`` is the console script.
"""

from cjkit.cli.app import app, main, run

__all__ = ["app", "main", "run"]
