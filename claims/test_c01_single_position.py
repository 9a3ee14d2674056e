"""C1: Single-position intervention (each demo output's last token, the separator, the query
tokens) gives no transfer at any layer.

Paper: 0% at all 28 layers of Llama-3.2-3B; 0% [0, 7%] at L14.
Measurement: single_sweep: every single position set x every layer, on the pairs whose all_demo
transfer is significantly above 10% (matched comparison), trials with a clean-correct source.
Assertion: every cell's one-sided 95% Clopper-Pearson upper bound <= 0.10 (holds); any cell
significantly above 0.10 after Holm (refuted).
"""

import pytest

from claims._verdict import check

pytestmark = [pytest.mark.claim("C1"), pytest.mark.zoo, pytest.mark.slow]


def test_c01_single_position(suite):
    """C1: Single-position intervention (each demo output's last token, the separator, the
    query tokens) gives no transfer at any layer."""
    check(suite.verdict("C1"))
