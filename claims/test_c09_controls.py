"""C9: Controls transfer nothing: random source, norm-matched noise, shuffled roles.

Paper: 0% (the paper's own data: shuffled 55% on the one transferring pair).
Measurement: controls at the best layer on all_demo: source prompt of a third task, Gaussian
vectors of the source states' norms, source states permuted across positions.
Assertion: `icl_core.verdicts.c9` (rule, thresholds and error control stated there).
"""

import pytest

from claims._verdict import check

pytestmark = [pytest.mark.claim("C9"), pytest.mark.zoo, pytest.mark.slow]


def test_c09_controls(suite):
    """C9: Controls transfer nothing: random source, norm-matched noise, shuffled roles."""
    check(suite.verdict("C9"))
