"""Tests of icl_core.stats: known values, cross-checks against statsmodels/scipy, properties."""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from icl_core.errors import InvalidChoiceError
from icl_core.stats import (
    ArgmaxResult,
    Rate,
    bootstrap_argmax,
    bootstrap_ci,
    clopper_pearson_interval,
    clopper_pearson_lower,
    clopper_pearson_upper,
    compare_rates,
    depth,
    holm,
    pearson,
    rate,
    spearman,
    tost_zero,
    wilson_bound,
    wilson_interval,
)

GRID = [(k, n) for n in (1, 2, 3, 5, 10, 28, 50, 100) for k in range(n + 1)]
CONFS = (0.8, 0.9, 0.95, 0.99)


@st.composite
def counts(draw, max_n: int = 300) -> tuple[int, int]:
    n = draw(st.integers(1, max_n))
    return draw(st.integers(0, n)), n


confs = st.floats(0.51, 0.999)


# ---------------------------------------------------------------- known values


@pytest.mark.parametrize(
    ("k", "n", "lo", "hi"),
    [(48, 50, 0.8654, 0.9890), (47, 50, 0.8378, 0.9794), (0, 50, 0.0, 0.0713)],
)
def test_wilson_known_values(k, n, lo, hi):
    got = wilson_interval(k, n)
    assert got == pytest.approx((lo, hi), abs=5e-5)


def test_wilson_zero_closed_form():
    # 0/n: upper = z^2 / (n + z^2) = 0.071348 at n = 50 (prints as "0.0% [0.0, 7.1]")
    z2 = sps.norm.ppf(0.975) ** 2
    assert wilson_interval(0, 50) == pytest.approx((0.0, z2 / (50 + z2)), abs=1e-14)
    assert str(rate(0, 50)) == "0/50 = 0.0% [0.0, 7.1]"


def test_rate_str_and_fields():
    r = rate(48, 50)
    assert str(r) == "48/50 = 96.0% [86.5, 98.9]"
    assert (r.k, r.n, r.rate, r.method, r.conf) == (48, 50, 0.96, "wilson", 0.95)
    assert (r.ci_low, r.ci_high) == wilson_interval(48, 50)
    cp = rate(48, 50, method="clopper-pearson")
    assert (cp.ci_low, cp.ci_high) == clopper_pearson_interval(48, 50)
    assert isinstance(cp, Rate) and cp.method == "clopper-pearson"
    with pytest.raises(AttributeError):
        r.k = 3  # frozen


@pytest.mark.parametrize("conf", CONFS)
def test_wilson_matches_statsmodels(conf):
    for k, n in GRID:
        ref = proportion_confint(k, n, alpha=1 - conf, method="wilson")
        assert wilson_interval(k, n, conf) == pytest.approx(ref, abs=1e-12), (k, n)


@pytest.mark.parametrize("conf", CONFS)
def test_clopper_pearson_matches_statsmodels(conf):
    for k, n in GRID:
        ref = proportion_confint(k, n, alpha=1 - conf, method="beta")
        assert clopper_pearson_interval(k, n, conf) == pytest.approx(ref, abs=1e-12), (k, n)


@pytest.mark.parametrize("conf", CONFS)
def test_one_sided_equal_two_sided_at_2conf_minus_1(conf):
    two = 2 * conf - 1
    for k, n in GRID:
        w_lo, w_hi = wilson_interval(k, n, two)
        assert wilson_bound(k, n, conf, "upper") == pytest.approx(w_hi, abs=1e-12)
        assert wilson_bound(k, n, conf, "lower") == pytest.approx(w_lo, abs=1e-12)
        c_lo, c_hi = clopper_pearson_interval(k, n, two)
        assert clopper_pearson_upper(k, n, conf) == pytest.approx(c_hi, abs=1e-12)
        assert clopper_pearson_lower(k, n, conf) == pytest.approx(c_lo, abs=1e-12)


@pytest.mark.parametrize("n", [1, 10, 28, 50, 200])
def test_clopper_pearson_zero_and_full_closed_forms(n):
    assert clopper_pearson_upper(0, n) == pytest.approx(1 - 0.05 ** (1 / n), rel=1e-12)
    assert clopper_pearson_lower(n, n) == pytest.approx(0.05 ** (1 / n), rel=1e-12)
    assert clopper_pearson_upper(n, n) == 1.0 and clopper_pearson_lower(0, n) == 0.0


def test_clopper_pearson_upper_is_exact():
    # P(X <= k | p = upper) == 1 - conf
    for k, n in [(0, 50), (3, 50), (10, 28), (49, 50)]:
        u = clopper_pearson_upper(k, n, 0.95)
        assert sps.binom.cdf(k, n, u) == pytest.approx(0.05, abs=1e-9)


# ---------------------------------------------------------------- properties of intervals


@given(counts(), confs)
def test_intervals_contain_point_and_lie_in_unit(kn, conf):
    k, n = kn
    p = k / n
    for lo, hi in (wilson_interval(k, n, conf), clopper_pearson_interval(k, n, conf)):
        assert 0.0 <= lo <= p <= hi <= 1.0
    assert 0.0 <= wilson_bound(k, n, conf, "lower") <= p <= wilson_bound(k, n, conf) <= 1.0
    assert 0.0 <= clopper_pearson_lower(k, n, conf) <= p <= clopper_pearson_upper(k, n, conf)
    assert clopper_pearson_upper(k, n, conf) <= 1.0


@given(st.integers(1, 150), confs)
@settings(max_examples=40, deadline=None)
def test_upper_bounds_non_decreasing_in_k(n, conf):
    for f in (
        lambda k: wilson_bound(k, n, conf, "upper"),
        lambda k: clopper_pearson_upper(k, n, conf),
        lambda k: wilson_interval(k, n, conf)[1],
        lambda k: clopper_pearson_interval(k, n, conf)[1],
    ):
        ups = [f(k) for k in range(n + 1)]
        assert all(a <= b for a, b in pairwise(ups)), ups


@given(counts(100), confs)
def test_wider_conf_gives_wider_interval(kn, conf):
    k, n = kn
    lo1, hi1 = wilson_interval(k, n, conf)
    lo2, hi2 = wilson_interval(k, n, min(0.9999, conf + 0.0001))
    assert lo2 <= lo1 and hi1 <= hi2


# ---------------------------------------------------------------- equivalence and comparison


def test_tost_zero():
    e = tost_zero(0, 50, margin=0.10)
    assert e.holds and e.bound == pytest.approx(1 - 0.05 ** (1 / 50))
    assert e.p_value == pytest.approx(0.9**50) and e.p_value <= 0.05
    assert "holds" in str(e) and "0/50" in str(e)
    e3 = tost_zero(3, 50, margin=0.10)
    assert not e3.holds and e3.bound > 0.10 and e3.p_value > 0.05
    assert "does not hold" in str(e3)


@given(counts(200), st.floats(0.01, 1.0), st.sampled_from([0.01, 0.05, 0.1]))
def test_tost_zero_bound_and_p_value_agree(kn, margin, alpha):
    k, n = kn
    e = tost_zero(k, n, margin, alpha)
    assert e.bound == clopper_pearson_upper(k, n, 1 - alpha)
    assert e.holds == (e.bound <= margin)
    if abs(e.bound - margin) > 1e-9:  # away from the boundary, the exact test agrees
        assert e.holds == (e.p_value <= alpha)


# Newcombe (1998), Stat Med 17:873, Table II, method 10 (hybrid score, no continuity correction).
NEWCOMBE = [
    ((56, 70, 48, 80), (0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.1705, 0.8090)),
    ((6, 7, 2, 7), (0.0582, 0.8062)),
    ((5, 56, 0, 29), (-0.0381, 0.1926)),
    ((0, 10, 0, 20), (-0.1611, 0.2775)),
    ((0, 10, 0, 10), (-0.2775, 0.2775)),
    ((10, 10, 0, 20), (0.6791, 1.0)),
    ((10, 10, 0, 10), (0.6075, 1.0)),
]


@pytest.mark.parametrize(("args", "ci"), NEWCOMBE)
def test_compare_rates_newcombe_textbook(args, ci):
    d = compare_rates(*args)
    assert (d.ci_low, d.ci_high) == pytest.approx(ci, abs=5e-5)
    assert d.difference == pytest.approx(args[0] / args[1] - args[2] / args[3])
    table = [[args[0], args[1] - args[0]], [args[2], args[3] - args[2]]]
    assert d.p_value == pytest.approx(sps.fisher_exact(table).pvalue)


def test_compare_rates_matches_statsmodels_grid():
    for k1, n1 in [(0, 10), (3, 10), (10, 10), (20, 50), (49, 50)]:
        for k2, n2 in [(0, 7), (5, 28), (28, 28), (25, 50)]:
            d = compare_rates(k1, n1, k2, n2, conf=0.9)
            ref = confint_proportions_2indep(
                k1, n1, k2, n2, method="newcomb", compare="diff", alpha=0.1
            )
            assert (d.ci_low, d.ci_high) == pytest.approx(ref, abs=1e-10)
    assert "Fisher p" in str(compare_rates(56, 70, 48, 80))


# ---------------------------------------------------------------- Holm


def test_holm_known():
    reject, adj = holm([0.01, 0.04, 0.03, 0.005])
    assert reject.tolist() == [True, False, False, True]
    assert adj == pytest.approx([0.03, 0.06, 0.06, 0.02])
    r0, a0 = holm([])
    assert r0.shape == (0,) and a0.shape == (0,)


@given(
    st.lists(st.floats(0.0, 1.0), min_size=1, max_size=25),
    st.sampled_from([0.01, 0.05, 0.1]),
)
@pytest.mark.slow
@settings(max_examples=40, deadline=None)  # multipletests takes ~20 ms a call
def test_holm_matches_statsmodels(ps, alpha):
    reject, adj = holm(ps, alpha)
    ref_reject, ref_adj, _, _ = multipletests(ps, alpha=alpha, method="holm")
    assert reject.tolist() == ref_reject.tolist()
    np.testing.assert_allclose(adj, ref_adj, rtol=0, atol=1e-15)
    p = np.asarray(ps)
    assert np.all(adj >= p) and np.all(adj <= 1.0)
    order = np.argsort(p, kind="stable")
    assert np.all(np.diff(adj[order]) >= 0)  # monotone in p


# ---------------------------------------------------------------- bootstrap


@given(
    st.lists(st.floats(-100, 100), min_size=1, max_size=40),
    st.integers(0, 2**32 - 1),
)
@settings(max_examples=30)
def test_bootstrap_ci_reproducible(values, seed):
    a = bootstrap_ci(values, np.mean, n_boot=200, seed=seed)
    b = bootstrap_ci(values, np.mean, n_boot=200, seed=seed)
    assert a == b
    assert a[0] == pytest.approx(np.mean(values))
    assert a[1] <= a[2]


def test_bootstrap_ci_values():
    x = np.random.default_rng(5).normal(size=400)
    point, lo, hi = bootstrap_ci(x, np.mean, n_boot=4000, seed=1)
    se = x.std(ddof=1) / math.sqrt(x.size)
    assert lo == pytest.approx(point - 1.96 * se, abs=0.3 * se)
    assert hi == pytest.approx(point + 1.96 * se, abs=0.3 * se)
    assert bootstrap_ci(x, np.mean, n_boot=300, seed=2) != bootstrap_ci(x, np.mean, 300, seed=3)
    assert bootstrap_ci([2.0] * 9, np.mean, n_boot=50) == (2.0, 2.0, 2.0)


def test_bootstrap_ci_resamples_rows():
    i = np.arange(30.0)
    data = np.column_stack([i, 2 * i])  # rows must stay intact

    def stat(d):
        return float(np.max(np.abs(d[:, 1] - 2 * d[:, 0])))

    assert bootstrap_ci(data, stat, n_boot=100) == (0.0, 0.0, 0.0)


def test_bootstrap_ci_bad_input():
    with pytest.raises(InvalidChoiceError, match="zero valid trials"):
        bootstrap_ci([], np.mean)
    with pytest.raises(InvalidChoiceError, match="n_boot"):
        bootstrap_ci([1.0, 2.0], np.mean, n_boot=0)
    with pytest.raises(InvalidChoiceError, match="non-finite"):
        bootstrap_ci([1.0, 2.0], lambda d: float("nan"), n_boot=5)


def _dominant(n_layers: int, best: int, n_trials: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = (rng.random((n_layers, n_trials)) < 0.3).astype(int)
    x[best] = 1
    return x


@given(st.integers(2, 12), st.data(), st.integers(40, 100), st.integers(0, 10**6))
@settings(max_examples=30, deadline=None)
def test_bootstrap_argmax_dominant_layer(n_layers, data, n_trials, seed):
    best = data.draw(st.integers(0, n_layers - 1))
    x = _dominant(n_layers, best, n_trials, seed).astype(bool)  # bool input is accepted
    res = bootstrap_argmax(x, n_boot=300, seed=seed)
    assert res.best == best and res.ci_low == res.ci_high == best
    assert res.counts[best] == 300 and sum(res.counts) == 300
    assert res.window == (best,)
    assert res.rates[best] == 1.0 and res.n_layers == n_layers


@given(st.lists(st.booleans(), min_size=1, max_size=60), st.integers(1, 10))
@settings(max_examples=30, deadline=None)
def test_bootstrap_argmax_identical_rows_window_is_all(row, n_layers):
    x = np.tile(np.array(row, dtype=int), (n_layers, 1))
    res = bootstrap_argmax(x, n_boot=200)
    assert res.window == tuple(range(n_layers))
    assert res.best == 0 and (res.ci_low, res.ci_high) == (0, 0)  # ties -> lowest layer
    assert res.window_pvalues == (1.0,) * n_layers


def test_bootstrap_argmax_mcnemar_window_and_reproducibility():
    n = 50
    x = np.zeros((4, n), dtype=int)
    x[0, :20] = 1  # 20/50: far below
    x[1, :45] = 1  # 45/50: best
    x[2, :43] = 1  # 43/50, nested in the best: 2 discordant pairs, p = 0.25
    x[3, 10:45] = 1  # 35/50: 10 discordant, all favouring best: p = 1/1024
    res = bootstrap_argmax(x, n_boot=1000, seed=7)
    assert res.best == 1 and res.alpha == pytest.approx(0.05)
    raw = [0.5**25, 0.25, 0.5**10]  # exact one-sided McNemar p-values vs the best layer
    assert res.window_pvalues[0] == pytest.approx(3 * raw[0])  # Holm over 3 comparisons
    assert res.window_pvalues[2] == pytest.approx(max(2 * raw[2], raw[1]))
    assert res.window_pvalues[3] == pytest.approx(2 * raw[2])
    assert res.window_pvalues[1] == 1.0
    assert res.window == (1, 2)
    assert res == bootstrap_argmax(x, n_boot=1000, seed=7)
    assert res.ci_low <= res.best <= res.ci_high
    assert "best layer 1/4" in str(res) and isinstance(res, ArgmaxResult)


def test_bootstrap_argmax_bad_input():
    with pytest.raises(InvalidChoiceError, match="2-D"):
        bootstrap_argmax([1, 0, 1])
    with pytest.raises(InvalidChoiceError, match="zero valid trials"):
        bootstrap_argmax(np.zeros((3, 0)))
    with pytest.raises(InvalidChoiceError, match="0/1"):
        bootstrap_argmax([[0.5, 1.0], [0.0, 1.0]])


def test_depth():
    assert depth(8, 28) == pytest.approx(0.2857, abs=1e-4)
    assert depth(0, 16) == 0.0
    with pytest.raises(InvalidChoiceError, match="layer"):
        depth(28, 28)
    with pytest.raises(InvalidChoiceError, match="n_layers"):
        depth(0, 0)


# ---------------------------------------------------------------- correlations


def test_pearson_fisher_z_by_hand():
    x = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], dtype=float)
    y = np.array([2, 1, 4, 3, 7, 5, 6, 9, 10, 8], dtype=float)
    c = pearson(x, y, n_perm=2000, seed=3)
    r = sps.pearsonr(x, y).statistic
    z, zc = math.atanh(r), 1.959963984540054
    assert c.r == pytest.approx(r, abs=1e-12)
    assert c.ci_low == pytest.approx(math.tanh(z - zc / math.sqrt(7)), abs=1e-12)
    assert c.ci_high == pytest.approx(math.tanh(z + zc / math.sqrt(7)), abs=1e-12)
    assert c.n == 10 and c.method == "pearson" and c.n_perm == 2000
    assert 1 / 2001 <= c.p_value < 0.01
    assert c == pearson(x, y, n_perm=2000, seed=3)  # seeded
    s = spearman(x, y, n_perm=2000, seed=3)
    rho = sps.spearmanr(x, y).statistic
    se = math.sqrt((1 + rho**2 / 2) / 7)  # Bonett-Wright
    assert s.r == pytest.approx(rho, abs=1e-12)
    assert s.ci_low == pytest.approx(math.tanh(math.atanh(rho) - zc * se), abs=1e-12)
    assert s.ci_high == pytest.approx(math.tanh(math.atanh(rho) + zc * se), abs=1e-12)


def test_permutation_p_value_matches_theory():
    rng = np.random.default_rng(0)
    x = rng.normal(size=56)
    y = 0.3 * x + rng.normal(size=56)
    c = pearson(x, y)
    assert c.p_value == pytest.approx(sps.pearsonr(x, y).pvalue, abs=0.01)
    # perfect correlation, n = 5: only the identity and the reversal reach |r| = 1 (2 of 120)
    p = pearson([1, 2, 3, 4, 5], [2, 4, 6, 8, 10], n_perm=6000).p_value
    assert p == pytest.approx(2 / 120, abs=0.006)
    perfect = pearson([1, 2, 3, 4, 5], [5, 4, 3, 2, 1], n_perm=10)
    assert perfect.r == -1.0 and perfect.ci_low == perfect.ci_high == -1.0


ints = st.lists(st.integers(-50, 50), min_size=4, max_size=30)


@given(ints, st.data())
@settings(max_examples=50, deadline=None)
def test_correlations_match_scipy(x, data):
    y = data.draw(st.lists(st.integers(-50, 50), min_size=len(x), max_size=len(x)))
    assume(len(set(x)) > 1 and len(set(y)) > 1)
    c, s = pearson(x, y, n_perm=20), spearman(x, y, n_perm=20)
    assert c.r == pytest.approx(sps.pearsonr(x, y).statistic, abs=1e-9)
    assert s.r == pytest.approx(sps.spearmanr(x, y).statistic, abs=1e-9)
    for res in (c, s):
        assert -1 <= res.ci_low <= res.r <= res.ci_high <= 1
        assert 1 / 21 <= res.p_value <= 1


def test_correlation_bad_input():
    with pytest.raises(InvalidChoiceError, match="n >= 4"):
        pearson([1, 2, 3], [1, 2, 4])
    with pytest.raises(InvalidChoiceError, match="constant"):
        spearman([1, 1, 1, 1, 1], [1, 2, 3, 4, 5])
    with pytest.raises(InvalidChoiceError, match="equal length"):
        pearson([1, 2, 3, 4], [1, 2, 3, 4, 5])
    with pytest.raises(InvalidChoiceError, match="finite"):
        pearson([1, 2, 3, float("nan")], [1, 2, 3, 4])
    with pytest.raises(InvalidChoiceError, match="n_perm"):
        pearson([1, 2, 3, 4], [1, 3, 2, 4], n_perm=0)


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "fn",
    [
        rate,
        wilson_interval,
        wilson_bound,
        clopper_pearson_interval,
        clopper_pearson_upper,
        clopper_pearson_lower,
    ],
)
def test_bad_counts(fn):
    with pytest.raises(InvalidChoiceError, match=r"0 <= k <= n"):
        fn(51, 50)
    with pytest.raises(InvalidChoiceError, match=r"0 <= k <= n"):
        fn(-1, 50)
    with pytest.raises(InvalidChoiceError, match="n must be >= 1"):
        fn(0, -5)
    with pytest.raises(InvalidChoiceError, match="zero valid trials"):
        fn(0, 0)
    with pytest.raises(InvalidChoiceError, match="integer"):
        fn(2.5, 10)
    with pytest.raises(InvalidChoiceError, match="integer"):
        fn(True, 10)
    assert fn(np.int64(3), 10.0) == fn(3, 10)  # numpy ints and integral floats are fine


@pytest.mark.parametrize("conf", [0.0, 1.0, 1.5, -0.1, float("nan"), "high"])
def test_bad_conf(conf):
    for call in (
        lambda: rate(3, 10, conf=conf),
        lambda: wilson_interval(3, 10, conf),
        lambda: clopper_pearson_interval(3, 10, conf),
        lambda: wilson_bound(3, 10, conf),
        lambda: clopper_pearson_upper(3, 10, conf),
        lambda: compare_rates(3, 10, 4, 10, conf),
        lambda: bootstrap_argmax([[0, 1]], conf=conf),
        lambda: pearson([1, 2, 3, 4], [1, 3, 2, 4], conf=conf),
    ):
        with pytest.raises(InvalidChoiceError, match="conf must be in"):
            call()


def test_other_bad_input():
    with pytest.raises(InvalidChoiceError, match=r"one-sided"):
        clopper_pearson_upper(0, 10, conf=0.4)
    with pytest.raises(InvalidChoiceError, match="valid methods: clopper-pearson, wilson"):
        rate(3, 10, method="agresti")
    with pytest.raises(InvalidChoiceError, match="side"):
        wilson_bound(3, 10, side="both")
    with pytest.raises(InvalidChoiceError, match="margin"):
        tost_zero(0, 10, margin=0.0)
    with pytest.raises(InvalidChoiceError, match="alpha"):
        tost_zero(0, 10, margin=0.1, alpha=0.7)
    with pytest.raises(InvalidChoiceError, match="pvalues"):
        holm([0.1, 1.2])
    with pytest.raises(InvalidChoiceError, match="pvalues"):
        holm([0.1, float("nan")])
    with pytest.raises(InvalidChoiceError, match="alpha"):
        holm([0.1], alpha=0)
    with pytest.raises(InvalidChoiceError, match="seed"):
        bootstrap_ci([1.0, 2.0], np.mean, seed=1.5)
