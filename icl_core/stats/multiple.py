"""Multiplicity: Holm-Bonferroni step-down over a family of p-values."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from icl_core.errors import InvalidChoiceError
from icl_core.stats._checks import check_alpha


def holm(pvalues: ArrayLike, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Holm-Bonferroni step-down. Returns (reject, adjusted) in the input order.

    adjusted[i] = min(1, max_{j <= rank(i)} (m - j) * p_(j)) (0-based ranks): monotone in p,
    capped at 1; reject agrees with adjusted <= alpha (decided as p_(j) <= alpha / (m - j) step
    by step, like statsmodels). An empty input gives empty arrays.
    """
    p = np.asarray(pvalues, dtype=float)
    if p.ndim != 1:
        raise InvalidChoiceError(f"pvalues must be one-dimensional, got shape {p.shape}")
    bad = ~np.isfinite(p) | (p < 0) | (p > 1)
    if bad.any():
        shown = p[bad][:5].tolist()
        raise InvalidChoiceError(f"pvalues must be finite and in [0, 1], got {shown}")
    a = check_alpha(alpha)
    m = p.size
    if m == 0:
        return np.zeros(0, dtype=bool), np.zeros(0, dtype=float)
    order = np.argsort(p, kind="stable")
    ps = p[order]
    factors = np.arange(m, 0, -1, dtype=float)
    adj_sorted = np.minimum(1.0, np.maximum.accumulate(factors * ps))
    passed = ps <= a / factors
    n_rej = m if passed.all() else int(np.argmin(passed))
    reject, adjusted = np.zeros(m, dtype=bool), np.empty(m, dtype=float)
    reject[order[:n_rej]] = True
    adjusted[order] = adj_sorted
    return reject, adjusted
