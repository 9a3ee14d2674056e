"""Statistics for claim assertions (SPEC 5.5): rates with intervals, exact bounds, multiplicity,
bootstrap, correlations, equivalence to zero and rate comparisons.

Conventions: counts are integers with 0 <= k <= n and n >= 1 (n == 0 is "zero valid trials" and
raises); `conf` is a confidence level in (0, 1) (one-sided bounds need conf in (0.5, 1));
every random procedure takes an explicit integer `seed` and is reproducible bit for bit.
Bad input raises InvalidChoiceError naming the problem. Run-time dependencies: numpy, scipy.
"""

from icl_core.stats.bootstrap import ArgmaxResult, bootstrap_argmax, bootstrap_ci, depth
from icl_core.stats.correlation import Correlation, pearson, spearman
from icl_core.stats.multiple import holm
from icl_core.stats.proportions import (
    Equivalence,
    Rate,
    RateDifference,
    clopper_pearson_interval,
    clopper_pearson_lower,
    clopper_pearson_upper,
    compare_rates,
    rate,
    tost_zero,
    wilson_bound,
    wilson_interval,
)

__all__ = [
    "ArgmaxResult",
    "Correlation",
    "Equivalence",
    "Rate",
    "RateDifference",
    "bootstrap_argmax",
    "bootstrap_ci",
    "clopper_pearson_interval",
    "clopper_pearson_lower",
    "clopper_pearson_upper",
    "compare_rates",
    "depth",
    "holm",
    "pearson",
    "rate",
    "spearman",
    "tost_zero",
    "wilson_bound",
    "wilson_interval",
]
