"""Rates of k successes in n valid trials: intervals, exact bounds and tests, comparisons."""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats as _st

from icl_core.errors import InvalidChoiceError
from icl_core.stats._checks import check_alpha, check_conf, check_counts, check_prob, z_two_sided

RATE_METHODS = ("wilson", "clopper-pearson")
SIDES = ("upper", "lower")


@dataclass(frozen=True)
class Rate:
    """k successes of n valid trials, with a two-sided `conf` interval by `method`."""

    k: int
    n: int
    rate: float
    ci_low: float
    ci_high: float
    method: str = "wilson"
    conf: float = 0.95

    def __str__(self) -> str:
        return (
            f"{self.k}/{self.n} = {100 * self.rate:.1f}% "
            f"[{100 * self.ci_low:.1f}, {100 * self.ci_high:.1f}]"
        )


def _wilson(k: int, n: int, z: float) -> tuple[float, float]:
    """Wilson score roots for critical value z (z >= 0), with exact 0 / 1 at k = 0 / n."""
    z2 = z * z
    root = z * math.sqrt(z2 + 4.0 * k * (n - k) / n)
    denom = 2.0 * (n + z2)
    lo = 0.0 if k == 0 else max(0.0, (2.0 * k + z2 - root) / denom)
    hi = 1.0 if k == n else min(1.0, (2.0 * k + z2 + root) / denom)
    return lo, hi


def wilson_interval(k: int, n: int, conf: float = 0.95) -> tuple[float, float]:
    """Two-sided Wilson score interval (no continuity correction); lo <= k/n <= hi, in [0, 1]."""
    k, n = check_counts(k, n)
    return _wilson(k, n, z_two_sided(check_conf(conf)))


def wilson_bound(k: int, n: int, conf: float = 0.95, side: str = "upper") -> float:
    """One-sided Wilson bound: equals the two-sided interval's end at level 2*conf - 1."""
    k, n = check_counts(k, n)
    if side not in SIDES:
        raise InvalidChoiceError(f"side must be one of {', '.join(SIDES)}, got {side!r}")
    z = float(_st.norm.ppf(check_conf(conf, one_sided=True)))
    lo, hi = _wilson(k, n, z)
    return hi if side == "upper" else lo


def clopper_pearson_interval(k: int, n: int, conf: float = 0.95) -> tuple[float, float]:
    """Two-sided exact (Clopper-Pearson) interval; lo = 0 at k = 0 and hi = 1 at k = n."""
    k, n = check_counts(k, n)
    a = 1.0 - check_conf(conf)
    lo = 0.0 if k == 0 else float(_st.beta.ppf(a / 2.0, k, n - k + 1))
    hi = 1.0 if k == n else float(_st.beta.ppf(1.0 - a / 2.0, k + 1, n - k))
    return lo, hi


def clopper_pearson_upper(k: int, n: int, conf: float = 0.95) -> float:
    """One-sided exact upper bound: P(X <= k | p = bound) = 1 - conf; 0/n gives 1-(1-conf)^(1/n)."""
    k, n = check_counts(k, n)
    c = check_conf(conf, one_sided=True)
    return 1.0 if k == n else float(_st.beta.ppf(c, k + 1, n - k))


def clopper_pearson_lower(k: int, n: int, conf: float = 0.95) -> float:
    """One-sided exact lower bound: P(X >= k | p = bound) = 1 - conf; n/n gives (1-conf)^(1/n)."""
    k, n = check_counts(k, n)
    c = check_conf(conf, one_sided=True)
    return 0.0 if k == 0 else float(_st.beta.ppf(1.0 - c, k, n - k + 1))


def rate(k: int, n: int, conf: float = 0.95, method: str = "wilson") -> Rate:
    """A Rate with its two-sided interval; method "wilson" (default) or "clopper-pearson".

    Raises InvalidChoiceError on zero valid trials (n == 0), k outside [0, n], a bad conf or method.
    """
    if method not in RATE_METHODS:
        raise InvalidChoiceError(
            f"unknown rate method {method!r}; valid methods: {', '.join(sorted(RATE_METHODS))}"
        )
    k, n = check_counts(k, n)
    interval = wilson_interval if method == "wilson" else clopper_pearson_interval
    lo, hi = interval(k, n, conf)
    return Rate(k=k, n=n, rate=k / n, ci_low=lo, ci_high=hi, method=method, conf=float(conf))


@dataclass(frozen=True)
class Equivalence:
    """Equivalence of a rate to zero: holds iff the one-sided upper bound <= margin."""

    k: int
    n: int
    bound: float
    margin: float
    alpha: float
    p_value: float
    holds: bool

    def __str__(self) -> str:
        rel = "<=" if self.holds else ">"
        verdict = "holds" if self.holds else "does not hold"
        return (
            f"{self.k}/{self.n}: one-sided {100 * (1 - self.alpha):g}% upper bound "
            f"{100 * self.bound:.1f}% {rel} margin {100 * self.margin:.1f}% ({verdict})"
        )


def tost_zero(k: int, n: int, margin: float, alpha: float = 0.05) -> Equivalence:
    """Test that the rate is below `margin` (equivalence to zero, one-sided exact test).

    bound = clopper_pearson_upper(k, n, 1 - alpha); holds iff bound <= margin. p_value is the
    exact P(X <= k | p = margin) (H0: p >= margin); p_value <= alpha iff holds (up to rounding).
    """
    k, n = check_counts(k, n)
    a = check_alpha(alpha)
    if a >= 0.5:
        raise InvalidChoiceError(f"alpha must be in (0, 0.5) for a one-sided bound, got {alpha!r}")
    m = check_prob(margin, "margin", open_low=True)
    bound = clopper_pearson_upper(k, n, 1.0 - a)
    p = float(_st.binom.cdf(k, n, m))
    return Equivalence(k=k, n=n, bound=bound, margin=m, alpha=a, p_value=p, holds=bound <= m)


@dataclass(frozen=True)
class RateDifference:
    """rate1 - rate2 with its Newcombe hybrid-score interval and a two-sided Fisher exact p."""

    k1: int
    n1: int
    k2: int
    n2: int
    difference: float
    ci_low: float
    ci_high: float
    p_value: float
    conf: float = 0.95

    def __str__(self) -> str:
        return (
            f"{self.k1}/{self.n1} - {self.k2}/{self.n2} = {100 * self.difference:+.1f} pts "
            f"[{100 * self.ci_low:+.1f}, {100 * self.ci_high:+.1f}], Fisher p = {self.p_value:.3g}"
        )


def compare_rates(k1: int, n1: int, k2: int, n2: int, conf: float = 0.95) -> RateDifference:
    """Compare two independent rates: Newcombe (1998, method 10) interval for p1 - p2 built from
    the two Wilson intervals, and the two-sided Fisher exact p-value of the 2x2 table."""
    k1, n1 = check_counts(k1, n1)
    k2, n2 = check_counts(k2, n2)
    c = check_conf(conf)
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson_interval(k1, n1, c)
    l2, u2 = wilson_interval(k2, n2, c)
    d = p1 - p2
    lo = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    hi = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    p = float(_st.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]], alternative="two-sided").pvalue)
    return RateDifference(k1, n1, k2, n2, d, max(-1.0, lo), min(1.0, hi), min(1.0, p), c)
