"""C5: Noise at the query position disrupts the task; noise at any single demo position does not.

Paper: query noise disrupts 53-100% in early-middle layers; 0% disruption at single demo
positions.
Measurement: tracing: Gaussian noise, sigma = 3 x per-layer activation std (>= 100 prompts), at
the query token and at each demo output's last token, every layer; clean-correct prompts only.
Assertion: `icl_core.verdicts.c5` (rule, thresholds and error control stated there).
"""

import pytest

from claims._verdict import check

pytestmark = [pytest.mark.claim("C5"), pytest.mark.zoo, pytest.mark.slow]


def test_c05_causal_tracing(suite):
    """C5: Noise at the query position disrupts the task; noise at any single demo position
    does not."""
    check(suite.verdict("C5"))
