"""C8: Transfer needs many output positions and all demonstrations: sharp thresholds.

Paper: 1-7 output positions ~0%, 10 -> 10%, all -> 90%; 1-3 source demos 0%, 5 -> 93%.
Measurement: thresholds: random subsets of k output-line positions (k = 1, 2, 3, 5, 7, 10, all;
10 subsets) and the output lines of the last 1, 2, 3 or all 5 demos, at the best layer.
Assertion: `icl_core.verdicts.c8` (rule, thresholds and error control stated there).
"""

import pytest

from claims._verdict import check

pytestmark = [pytest.mark.claim("C8"), pytest.mark.zoo, pytest.mark.slow]


def test_c08_thresholds(suite):
    """C8: Transfer needs many output positions and all demonstrations: sharp thresholds."""
    check(suite.verdict("C8"))
