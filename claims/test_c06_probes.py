"""C6: Probes decode the task at the last demo position though single-position patching does not
transfer.

Paper: nearest-centroid probe 100% at demo positions, 83% at the query (L12).
Measurement: probes: nearest-centroid and logistic regression over the eight tasks, held-out
prompts with randomized demos, every layer.
Assertion: `icl_core.verdicts.c6` (rule, thresholds and error control stated there).
"""

import pytest

from claims._verdict import check

pytestmark = [pytest.mark.claim("C6"), pytest.mark.zoo, pytest.mark.slow]


def test_c06_probes(suite):
    """C6: Probes decode the task at the last demo position though single-position patching
    does not transfer."""
    check(suite.verdict("C6"))
