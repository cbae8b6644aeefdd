"""Hypothesis example budgets: the profile (``HYPOTHESIS_PROFILE``, see conftest.py) sets the
count, and a test that is cheaper or dearer per example than the average states its share.

``ci`` gives 100 examples a test, so ``budget(1.5)`` is 150 in CI (the counts these tests used
to hard-code); ``dev`` gives 10, so the same test runs 15 examples in the fast loop.
"""

from __future__ import annotations

from hypothesis import settings


def budget(share: float = 1.0) -> int:
    """Return ``share`` times the loaded profile's ``max_examples`` (at least 2)."""
    return max(2, round(settings.default.max_examples * share))
