"""The significance tests of ``cjkit.engine.insight.tests``: hand-computed values, checked
against plain Python (math.erfc, math.comb) and against ``scipy.stats`` on raw samples."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cjkit.engine.insight import tests as sig
from cjkit.engine.insight.compare import mark_significant

stats = pytest.importorskip("scipy.stats")


def test_z_test_matches_the_hand_computed_pooled_z() -> None:
    # 45/100 against 30/100: pooled p = 0.375, se = sqrt(.375 · .625 · (1/100 + 1/100)).
    se = math.sqrt(0.375 * 0.625 * 0.02)
    z = 0.15 / se
    assert z == pytest.approx(2.19089, abs=1e-5)
    expected = math.erfc(z / math.sqrt(2))  # two-sided normal tail, without scipy
    got = sig.two_proportions(45, 100, 30, 100)
    assert got.test == "z"
    assert got.p_value == pytest.approx(expected, rel=1e-12)
    assert got.p_value == pytest.approx(0.028459, abs=1e-6)


def _fisher_by_hand(a: int, b: int, c: int, d: int) -> float:
    """Two-sided Fisher p: the hypergeometric tables at most as likely as the observed one."""
    n1, n2, k = a + b, c + d, a + c

    def prob(x: int) -> float:
        return math.comb(n1, x) * math.comb(n2, k - x) / math.comb(n1 + n2, k)

    seen = prob(a)
    support = range(max(0, k - n2), min(k, n1) + 1)
    return sum(prob(x) for x in support if prob(x) <= seen * (1 + 1e-7))


def test_small_cells_use_fisher() -> None:
    # 1/5 against 4/5: the smallest expected cell is 2.5 < 5.
    got = sig.two_proportions(1, 5, 4, 5)
    assert got.test == "fisher"
    assert got.p_value == pytest.approx(_fisher_by_hand(1, 4, 4, 1), rel=1e-9)
    assert got.p_value == pytest.approx(stats.fisher_exact([[1, 4], [4, 1]]).pvalue)
    assert got.p_value == pytest.approx(0.2063492, abs=1e-6)


def test_z_and_fisher_disagree_near_005_and_the_test_is_reported() -> None:
    # semantics §9: near 0.05 the tests can disagree, so the name travels with the p-value.
    z = sig.two_proportions(40, 100, 26, 100)
    assert z.test == "z"
    assert z.p_value is not None
    assert z.p_value < 0.05
    fisher = stats.fisher_exact([[40, 60], [26, 74]]).pvalue
    assert fisher > z.p_value


def test_empty_group_has_no_p_value() -> None:
    assert sig.two_proportions(0, 0, 3, 10).p_value is None


def test_bh_matches_the_step_up_rule() -> None:
    # Sorted 0.01, 0.03, 0.04, 0.20 (m = 4): q_i = min_{j ≥ i} p_j · m / j.
    q = sig.bh([0.01, 0.04, 0.03, 0.20, None])
    expected = [0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.20, None]
    assert q[:4] == pytest.approx(expected[:4])
    assert q[4] is None


def test_bh_marks_significant_at_alpha() -> None:
    entries = [{"p_value": p, "significant": False} for p in (0.001, 0.02, 0.03, 0.5)]
    mark_significant([*entries, None], 0.05)
    # q = 0.004, 0.04, 0.04, 0.5
    assert [e["significant"] for e in entries] == [True, True, True, False]


def test_welch_from_summary_statistics_equals_scipy_on_raw_samples() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(10, 2, 40), rng.normal(11, 4, 25)
    got = sig.welch(a.mean(), a.var(ddof=1), 40, b.mean(), b.var(ddof=1), 25)
    expected = stats.ttest_ind(a, b, equal_var=False).pvalue
    assert got.test == "welch"
    assert got.p_value == pytest.approx(expected, rel=1e-10)
    # By hand: Welch's t and the Welch–Satterthwaite degrees of freedom.
    va, vb = a.var(ddof=1) / 40, b.var(ddof=1) / 25
    t = (a.mean() - b.mean()) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / 39 + vb**2 / 24)
    assert got.p_value == pytest.approx(2 * stats.t.sf(abs(t), df), rel=1e-10)


def test_mood_median_test_is_the_chi_square_of_above_and_below_the_grand_median() -> None:
    a = np.array([1.0, 2, 3, 4, 5, 6, 7, 8])
    b = np.array([5.0, 6, 7, 8, 9, 10, 11, 12])
    got = sig.median_test(a, b)
    grand = np.median(np.concatenate([a, b]))  # 6.5
    table = np.array(
        [[(a > grand).sum(), (b > grand).sum()], [(a <= grand).sum(), (b <= grand).sum()]]
    )
    expected = stats.chi2_contingency(table, correction=True).pvalue
    assert got.test == "mood"
    assert got.p_value == pytest.approx(expected)
    assert got.p_value == pytest.approx(stats.median_test(a, b).pvalue)


@given(
    st.integers(0, 60),
    st.integers(1, 60),
    st.integers(0, 60),
    st.integers(1, 60),
)
def test_p_values_are_probabilities_and_symmetric(x1: int, n1: int, x2: int, n2: int) -> None:
    x1, x2 = min(x1, n1), min(x2, n2)
    one = sig.two_proportions(x1, n1, x2, n2)
    other = sig.two_proportions(x2, n2, x1, n1)
    assert one.p_value is not None
    assert 0.0 <= one.p_value <= 1.0 + 1e-12
    assert one.p_value == pytest.approx(other.p_value)
    assert one.test == other.test


def test_missing_scipy_is_a_one_line_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    from cjkit.errors import UsageError

    real = builtins.__import__

    def no_scipy(name: str, *args: object, **kwargs: object) -> object:
        if name.startswith("scipy"):
            raise ImportError(name)
        return real(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_scipy)
    with pytest.raises(UsageError) as info:
        sig.scipy_stats()
    assert info.value.exit_code == 2
    assert "pip install 'cjkit[stats]'" in (info.value.hint or "")
