"""C1: Single-position intervention (each demo output's last token, the separator, the query
tokens) gives no transfer at any layer.

Paper: 0% at all 28 layers of Llama-3.2-3B; 0% [0, 7%] at L14.
Measurement: single_sweep: every single position set x every layer of each pre-registered pair
(source prompt with another query: SPEC 5.3), drawn in rounds on the undecided cells, trials
with a clean-correct source; only on pairs whose all_demo patching transfers.
Assertion: `icl_core.verdicts.c1` (rule, thresholds and error control stated there).
"""

import pytest

from claims._verdict import check_pair

pytestmark = [pytest.mark.claim("C1"), pytest.mark.zoo, pytest.mark.slow]


def test_c01_single_position(suite, sweep_pair):
    """C1: Single-position intervention gives no transfer at any layer (one sweep pair)."""
    check_pair(suite, "C1", sweep_pair)
