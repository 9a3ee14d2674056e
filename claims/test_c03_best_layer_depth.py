"""C3: A best intervention layer lies near 30% of network depth.

Paper: best layers 8/28, 5/16, 8/28, 8/26.
Measurement: multi_sweep all_demo transfer at every layer on the same trials (paired), rounds
until decided or the profile's cap.
Assertion: `icl_core.verdicts.c3` (rule, thresholds and error control stated there).
"""

import pytest

from claims._verdict import check_pair

pytestmark = [pytest.mark.claim("C3"), pytest.mark.zoo, pytest.mark.slow]


def test_c03_best_layer_depth(suite, sweep_pair):
    """C3: A best intervention layer lies near 30% of network depth (one sweep pair)."""
    check_pair(suite, "C3", sweep_pair)
