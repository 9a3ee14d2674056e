"""Mechanics: patching's model-independent properties, on each real `--model` (issue 15).

Not a claim of the paper: what every claim's measurement relies on, and what holds whether or
not the model can do the tasks (`icl_core.mechanics` states each property and its tolerance).
The model's competence table is recorded as a property of the test, not asserted: a model that
fails the tasks makes the claims unmeasurable (their tests skip with the reason), not wrong.
"""

import pytest

from icl_core.mechanics import CHECKS
from icl_core.papers.cheng2026.measurability import competence_table

pytestmark = [pytest.mark.zoo, pytest.mark.slow]


@pytest.mark.parametrize("check", CHECKS, ids=[c.__name__ for c in CHECKS])
def test_mechanics(lm, check):
    result = check(lm)
    assert result.passed, f"{lm.info.name}: {result.name} failed: {result.detail}"


def test_competence_table(lm):
    """Printed (shown by -rA and in the report's junit output); junit's xunit2 format, the
    default, has no per-test properties."""
    rows, notes = competence_table(lm, n=10)
    table = ", ".join(f"{r['task']} {r['k']}/{r['n']}" for r in rows)
    print(f"{lm.info.name}: {table}; " + "; ".join(notes))
    assert len(rows) == 8 and all(r["n"] == 10 for r in rows)
