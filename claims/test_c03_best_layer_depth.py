"""C3: The best intervention layer sits near 30% of network depth.

Paper: best layers 8/28, 5/16, 8/28, 8/26.
Measurement: multi_sweep over every layer; bootstrap (2000, seeded) of the argmax layer of
all_demo transfer over paired trials; window = layers not significantly below the best (McNemar,
Holm).
Assertion: bootstrap interval of the argmax depth within [0.2, 0.4] (holds); no window layer in
[0.2, 0.4] (refuted).
"""

import pytest

from claims._verdict import check

pytestmark = [pytest.mark.claim("C3"), pytest.mark.zoo, pytest.mark.slow]


def test_c03_best_layer_depth(suite):
    """C3: The best intervention layer sits near 30% of network depth."""
    check(suite.verdict("C3"))
