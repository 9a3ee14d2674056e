"""C7: Transfer tracks representation compatibility, not surface similarity.

Paper: r = -0.05 (surface) vs r = 0.31 (representation), 56 pairs.
Measurement: matrix transfer at the best layer vs surface similarity (10 output-format features,
cosine) and representation similarity (cosine of centred mean task vectors).
Assertion: `icl_core.verdicts.c7` (rule, thresholds and error control stated there).
"""

import pytest

from claims._verdict import check

pytestmark = [pytest.mark.claim("C7"), pytest.mark.zoo, pytest.mark.slow]


def test_c07_similarity(suite):
    """C7: Transfer tracks representation compatibility, not surface similarity."""
    check(suite.verdict("C7"))
