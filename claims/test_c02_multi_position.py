"""C2: Patching all demonstration tokens (or only the output tokens) transfers the source task.

Paper: uppercase->repeat_word at L8: all_demo 96% [87, 99], output_only 94% [84, 98], input_only
0% [0, 7], N=50.
Measurement: multi_sweep: all_demo / output_only / input_only / last_demo x every layer of each
pre-registered pair, then rounds on the undecided layers.
Assertion: `icl_core.verdicts.c2` (rule, thresholds and error control stated there).
"""

import pytest

from claims._verdict import check_pair

pytestmark = [pytest.mark.claim("C2"), pytest.mark.zoo, pytest.mark.slow]


def test_c02_multi_position(suite, sweep_pair):
    """C2: Patching all demonstration tokens transfers the source task (one sweep pair)."""
    check_pair(suite, "C2", sweep_pair)
