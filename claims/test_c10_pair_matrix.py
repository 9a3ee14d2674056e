"""C10: Only a minority of task pairs transfer.

Paper: 7 of 56 pairs >= 50% at L8.
Measurement: matrix: all ordered pairs of the eight tasks, all_demo at the best layer.
Assertion: `icl_core.verdicts.c10` (rule, thresholds and error control stated there).
"""

import pytest

from claims._verdict import check

pytestmark = [pytest.mark.claim("C10"), pytest.mark.zoo, pytest.mark.slow]


def test_c10_pair_matrix(suite):
    """C10: Only a minority of task pairs transfer."""
    check(suite.verdict("C10"))
