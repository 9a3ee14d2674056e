"""C3-peak: The transfer peak is at about 30% depth, not in the earliest layers.

Paper: best layers 8/28, 5/16, 8/28, 8/26 (~30% depth), read as a peak there.
Measurement: as C3 (multi_sweep all_demo, every layer, paired trials).
Assertion: `icl_core.verdicts.c3_peak` (rule, thresholds and error control stated there).
"""

import pytest

from claims._verdict import check_pair

pytestmark = [pytest.mark.claim("C3-peak"), pytest.mark.zoo, pytest.mark.slow]


def test_c03_peak_not_earlier(suite, sweep_pair):
    """C3-peak: The transfer peak is at about 30% depth, not earlier (one sweep pair)."""
    check_pair(suite, "C3-peak", sweep_pair)
