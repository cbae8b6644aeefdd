"""`python -m cjkit` runs the command-line interface."""

from cjkit.cli import run

run()
