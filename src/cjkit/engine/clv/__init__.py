"""Customer value ahead: the per-unit RFM summary (phase 1, Polars), then BG/NBD for repeat
purchases, Gamma-Gamma for order value, CLV and RFM segments (phase 2, numpy and scipy)."""

from __future__ import annotations

import importlib.util

from cjkit.errors import UsageError


def require_scipy(what: str) -> None:
    """Raise UsageError (exit 2, one line with the install hint) when scipy is missing.

    ``what`` names the feature that needs it (``clv``, a map's ``predict:`` section).
    """
    if importlib.util.find_spec("scipy") is None:
        raise UsageError(
            f"{what} needs scipy, which is not installed", hint="pip install 'cjkit[stats]'"
        )
