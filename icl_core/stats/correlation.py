"""Pearson and Spearman correlations with Fisher-z intervals and permutation p-values."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as _st

from icl_core.errors import InvalidChoiceError
from icl_core.stats._checks import check_conf, make_rng, positive_int, z_two_sided


@dataclass(frozen=True)
class Correlation:
    """Correlation r with a Fisher-z `conf` interval and a two-sided permutation p-value."""

    r: float
    ci_low: float
    ci_high: float
    p_value: float
    n: int
    method: str
    conf: float
    n_perm: int

    def __str__(self) -> str:
        return (
            f"{self.method} r = {self.r:.3f} [{self.ci_low:.3f}, {self.ci_high:.3f}], "
            f"permutation p = {self.p_value:.3g} (n = {self.n}, {self.n_perm} permutations)"
        )


def _pair(x: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if xa.ndim != 1 or ya.ndim != 1 or xa.size != ya.size:
        raise InvalidChoiceError(
            f"x and y must be 1-D of equal length, got shapes {xa.shape} and {ya.shape}"
        )
    if xa.size < 4:
        raise InvalidChoiceError(f"a correlation needs n >= 4 pairs (Fisher-z), got n={xa.size}")
    if not (np.all(np.isfinite(xa)) and np.all(np.isfinite(ya))):
        raise InvalidChoiceError("x and y must be finite (no nan or inf)")
    for name, v in (("x", xa), ("y", ya)):
        if np.all(v == v[0]):
            raise InvalidChoiceError(f"{name} is constant: its correlation is undefined")
    return xa, ya


def _unit(v: np.ndarray) -> np.ndarray:
    c = v - v.mean()
    return c / math.sqrt(float(c @ c))


def _correlate(
    xa: np.ndarray, ya: np.ndarray, method: str, conf: float, n_perm: int, seed: int
) -> Correlation:
    c, n_perm = check_conf(conf), positive_int(n_perm, "n_perm")
    rng = make_rng(seed)
    n = xa.size
    xu, yu = _unit(xa), _unit(ya)
    r = float(np.clip(xu @ yu, -1.0, 1.0))
    se = (
        math.sqrt((1.0 + r * r / 2.0) / (n - 3)) if method == "spearman" else 1.0 / math.sqrt(n - 3)
    )
    if abs(r) == 1.0:  # perfect (anti)correlation: Fisher z is infinite, the interval degenerates
        lo = hi = r
    else:
        z, half = math.atanh(r), z_two_sided(c) * se
        lo, hi = math.tanh(z - half), math.tanh(z + half)
    hits, chunk = 0, max(1, 1_000_000 // n)
    for start in range(0, n_perm, chunk):
        m = min(chunk, n_perm - start)
        perms = rng.permuted(np.tile(yu, (m, 1)), axis=1)
        hits += int(np.count_nonzero(np.abs(perms @ xu) >= abs(r) - 1e-12))
    p = (1 + hits) / (1 + n_perm)
    return Correlation(r, min(lo, r), max(hi, r), p, n, method, c, n_perm)


def pearson(
    x: ArrayLike, y: ArrayLike, conf: float = 0.95, n_perm: int = 10000, seed: int = 0
) -> Correlation:
    """Pearson r; Fisher-z interval with SE 1/sqrt(n-3); two-sided permutation p-value
    p = (1 + #{|r_perm| >= |r|}) / (1 + n_perm), permuting y (seeded).

    Needs n >= 4 finite pairs and non-constant x and y.
    """
    xa, ya = _pair(x, y)
    return _correlate(xa, ya, "pearson", conf, n_perm, seed)


def spearman(
    x: ArrayLike, y: ArrayLike, conf: float = 0.95, n_perm: int = 10000, seed: int = 0
) -> Correlation:
    """Spearman rho (Pearson r of average ranks); Fisher-z interval with the Bonett-Wright (2000)
    SE sqrt((1 + rho^2/2) / (n - 3)); permutation p-value as in `pearson`. Needs n >= 4."""
    xa, ya = _pair(x, y)
    return _correlate(_st.rankdata(xa), _st.rankdata(ya), "spearman", conf, n_perm, seed)
