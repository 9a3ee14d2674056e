"""C2: Patching all demonstration tokens (or only the output tokens) transfers the source task.

Paper: uppercase->repeat_word at L8: all_demo 96% [87, 99], output_only 94% [84, 98], input_only
0% [0, 7], N=50.
Measurement: multi_sweep: all_demo / output_only / input_only / last_demo x every layer,
headline pair.
Assertion: at the best layer all_demo Wilson lower bound >= 0.5 and input_only upper bound <=
0.10.
"""

import pytest

from claims._verdict import check

pytestmark = [pytest.mark.claim("C2"), pytest.mark.zoo, pytest.mark.slow]


def test_c02_multi_position(suite):
    """C2: Patching all demonstration tokens (or only the output tokens) transfers the source
    task."""
    check(suite.verdict("C2"))
