"""Percentile bootstrap, and the best layer of a paired layer sweep with its window."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as _st

from icl_core.errors import InvalidChoiceError
from icl_core.stats._checks import as_int, check_alpha, check_conf, make_rng, positive_int
from icl_core.stats.multiple import holm


def bootstrap_ci(
    data: ArrayLike,
    statistic: Callable[[np.ndarray], float],
    n_boot: int = 2000,
    conf: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Percentile bootstrap: (statistic(data), lo, hi), resampling rows (axis 0) with replacement.

    Interval ends are the (1 -/+ conf)/2 quantiles of the n_boot replicates (numpy's default
    linear interpolation). Seeded by np.random.default_rng(seed): same inputs and seed give
    identical results.
    Raises on empty data or a non-finite statistic.
    """
    arr = np.asarray(data)
    if arr.ndim == 0 or arr.shape[0] == 0:
        raise InvalidChoiceError("zero valid trials: bootstrap needs at least one row of data")
    n_boot, c = positive_int(n_boot, "n_boot"), check_conf(conf)
    rng = make_rng(seed)
    n = arr.shape[0]
    point = float(statistic(arr))
    boots = np.array([float(statistic(arr[rng.integers(0, n, size=n)])) for _ in range(n_boot)])
    if not (math.isfinite(point) and np.all(np.isfinite(boots))):
        raise InvalidChoiceError("statistic returned a non-finite value on the data or a resample")
    lo, hi = np.quantile(boots, [(1.0 - c) / 2.0, (1.0 + c) / 2.0])
    return point, float(lo), float(hi)


def depth(layer: int, n_layers: int) -> float:
    """Depth fraction of a 0-based decoder block index: layer / n_layers (SPEC 5.3; 8/28 = 0.29)."""
    n_layers = positive_int(n_layers, "n_layers")
    layer = as_int(layer, "layer")
    if not 0 <= layer < n_layers:
        raise InvalidChoiceError(f"layer must be in [0, {n_layers - 1}], got {layer}")
    return layer / n_layers


@dataclass(frozen=True)
class ArgmaxResult:
    """Best layer of a paired layer sweep, its bootstrap interval, and the window around it.

    best: argmax of the per-layer rate (ties -> lowest layer). ci_low/ci_high: percentile
    interval (inverted CDF, so actual layers) of the bootstrap argmax. counts[l]: bootstrap
    replicates whose argmax is l. window: layers not significantly below `best`, see
    bootstrap_argmax; window_pvalues[l]: Holm-adjusted p-value of that test (1.0 for best).
    """

    best: int
    ci_low: int
    ci_high: int
    rates: tuple[float, ...]
    counts: tuple[int, ...]
    window: tuple[int, ...]
    window_pvalues: tuple[float, ...]
    n_trials: int
    n_boot: int
    conf: float
    alpha: float
    seed: int

    @property
    def n_layers(self) -> int:
        return len(self.rates)

    @property
    def depth(self) -> float:
        return depth(self.best, self.n_layers)

    def __str__(self) -> str:
        win = ", ".join(str(x) for x in self.window)
        return (
            f"best layer {self.best}/{self.n_layers} (depth {self.depth:.2f}, rate "
            f"{100 * self.rates[self.best]:.1f}%, N={self.n_trials}); {100 * self.conf:g}% "
            f"bootstrap interval [{self.ci_low}, {self.ci_high}]; window "
            f"(not significantly below best, Holm alpha={self.alpha:g}): [{win}]"
        )


def bootstrap_argmax(
    outcomes: ArrayLike,
    n_boot: int = 2000,
    conf: float = 0.95,
    seed: int = 0,
    alpha: float | None = None,
) -> ArgmaxResult:
    """Best layer of a paired sweep. `outcomes`: 0/1 array (n_layers, n_trials), column j being
    the same trial at every layer.

    Bootstrap: resample trials (columns) with replacement n_boot times, keeping layers paired;
    argmax of the per-layer mean in each replicate (ties -> lowest layer).

    Window (deterministic, no bootstrap): for every other layer l, an exact one-sided McNemar
    test of "layer l is below best" on the paired trials: with b = #(best=1, l=0) and
    c = #(best=0, l=1), p_l = P(Binomial(b + c, 1/2) >= b) (p_l = 1 when b + c = 0). The p-values
    are Holm-adjusted across the n_layers - 1 comparisons; window = {best} and every layer that
    Holm does not reject at alpha (adjusted p-value > alpha; default alpha = 1 - conf). It need
    not be contiguous. Caveat: best is chosen from the same data, which favours it slightly, so
    the window errs narrow.
    """
    arr = np.asarray(outcomes)
    if arr.ndim != 2:
        raise InvalidChoiceError(
            f"outcomes must be 2-D (n_layers, n_trials), got shape {arr.shape}"
        )
    n_layers, n_trials = arr.shape
    if n_layers == 0:
        raise InvalidChoiceError("outcomes has no layers (shape[0] == 0)")
    if n_trials == 0:
        raise InvalidChoiceError("zero valid trials: outcomes has no columns")
    if not np.all((arr == 0) | (arr == 1)):
        raise InvalidChoiceError("outcomes must contain only 0/1 (or bool) values")
    x = arr.astype(np.float64)
    n_boot, c = positive_int(n_boot, "n_boot"), check_conf(conf)
    a = 1.0 - c if alpha is None else check_alpha(alpha)
    rng = make_rng(seed)

    sums = x.sum(axis=1)
    best = int(np.argmax(sums))
    # Resample counts per trial: w[b, j] = times trial j appears in replicate b (exact integers).
    idx = rng.integers(0, n_trials, size=(n_boot, n_trials))
    flat = (np.arange(n_boot)[:, None] * n_trials + idx).ravel()
    w = np.bincount(flat, minlength=n_boot * n_trials).reshape(n_boot, n_trials)
    boot_arg = np.argmax(x @ w.T.astype(np.float64), axis=0)
    counts = np.bincount(boot_arg, minlength=n_layers)
    q_lo, q_hi = np.quantile(boot_arg, [(1.0 - c) / 2.0, (1.0 + c) / 2.0], method="inverted_cdf")

    others = [layer for layer in range(n_layers) if layer != best]
    pvals = []
    for layer in others:
        b = int(np.sum((x[best] == 1) & (x[layer] == 0)))
        d = int(np.sum((x[best] == 0) & (x[layer] == 1)))
        pvals.append(1.0 if b + d == 0 else float(_st.binom.sf(b - 1, b + d, 0.5)))
    adjusted, below = np.ones(n_layers), np.zeros(n_layers, dtype=bool)
    if others:
        below[others], adjusted[others] = holm(np.array(pvals), a)
    window = tuple(int(layer) for layer in range(n_layers) if not below[layer])
    return ArgmaxResult(
        best=best,
        ci_low=int(q_lo),
        ci_high=int(q_hi),
        rates=tuple(float(v) for v in sums / n_trials),
        counts=tuple(int(v) for v in counts),
        window=window,
        window_pvalues=tuple(float(v) for v in adjusted),
        n_trials=int(n_trials),
        n_boot=n_boot,
        conf=c,
        alpha=a,
        seed=int(seed),
    )
