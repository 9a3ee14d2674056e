"""Input checks shared by the stats modules; every failure is an InvalidChoiceError naming it."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats as _st

from icl_core.errors import InvalidChoiceError


def as_int(value: object, name: str) -> int:
    """An integer-valued number (int, numpy integer, or integral float); bools are refused."""
    if isinstance(value, (bool, np.bool_)):
        raise InvalidChoiceError(f"{name} must be an integer, got bool {value!r}")
    if isinstance(value, (int, np.integer)):
        return int(value)
    if (
        isinstance(value, (float, np.floating))
        and math.isfinite(value)
        and float(value).is_integer()
    ):
        return int(value)
    raise InvalidChoiceError(f"{name} must be an integer, got {value!r}")


def check_counts(k: object, n: object) -> tuple[int, int]:
    """Counts 0 <= k <= n with n >= 1 (n == 0 is zero valid trials)."""
    k, n = as_int(k, "k"), as_int(n, "n")
    if n < 0:
        raise InvalidChoiceError(f"n must be >= 1 (number of valid trials), got n={n}")
    if n == 0:
        raise InvalidChoiceError("zero valid trials (n=0): a rate needs at least one valid trial")
    if k < 0 or k > n:
        raise InvalidChoiceError(f"k must satisfy 0 <= k <= n, got k={k}, n={n}")
    return k, n


def check_conf(conf: float, one_sided: bool = False, name: str = "conf") -> float:
    """A level strictly inside (0, 1), or (0.5, 1) for a one-sided bound."""
    lo = "0.5" if one_sided else "0"
    what = f"{name} must be in ({lo}, 1)" + (" for a one-sided bound" if one_sided else "")
    c = _float(conf, what)
    if not (float(lo) < c < 1.0):
        raise InvalidChoiceError(f"{what}, got {conf!r}")
    return c


def check_alpha(alpha: float) -> float:
    return check_conf(alpha, name="alpha")


def positive_int(value: object, name: str) -> int:
    v = as_int(value, name)
    if v < 1:
        raise InvalidChoiceError(f"{name} must be >= 1, got {v}")
    return v


def check_prob(value: float, name: str, open_low: bool = False) -> float:
    """A probability in [0, 1], or (0, 1] with open_low."""
    what = f"{name} must be in {'(0, 1]' if open_low else '[0, 1]'}"
    v = _float(value, what)
    if not ((0.0 < v <= 1.0) if open_low else (0.0 <= v <= 1.0)):
        raise InvalidChoiceError(f"{what}, got {value!r}")
    return v


def _float(value: object, what: str) -> float:
    if isinstance(value, (bool, np.bool_)):
        raise InvalidChoiceError(f"{what}, got bool {value!r}")
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidChoiceError(f"{what}, got {value!r}") from None


def z_two_sided(conf: float) -> float:
    """Two-sided normal critical value for confidence `conf`."""
    return float(_st.norm.ppf(0.5 + conf / 2.0))


def make_rng(seed: object) -> np.random.Generator:
    """np.random.default_rng of an explicit integer seed."""
    return np.random.default_rng(as_int(seed, "seed"))
