"""The paper's claims as tests: one per declaration in `icl_core.papers.cheng2026.claims`, which
holds each claim's statement, the paper's figure, what is measured and its rule (thresholds and
error control are stated with the rule in `icl_core.papers.cheng2026.verdicts`). Holds -> pass;
refuted -> fail with the figures; inconclusive -> skip with the reason (`claims/_verdict.py`). A
claim of scope "pair" runs once per sweep pair of the profile, one of scope "model" once per model,
C4 once per family of the run's models. Select claims with -k and their zero-padded ids (`-k
C01`)."""

import pytest

from claims._verdict import check, check_pair
from icl_core.papers.cheng2026.claims import CLAIMS, family_inputs

pytestmark = [pytest.mark.zoo, pytest.mark.slow]


def _declared(scope: str) -> list:
    return [pytest.param(c, id=c.test_id, marks=pytest.mark.claim(c.id))
            for c in CLAIMS.values() if c.scope == scope]  # fmt: skip


@pytest.mark.parametrize("claim", _declared("pair"))
def test_claim_on_pair(suite, claim, sweep_pair):
    """The claim on one sweep pair of the model."""
    check_pair(suite, claim.id, sweep_pair)


@pytest.mark.parametrize("claim", _declared("model"))
def test_claim(suite, claim):
    """The claim on the model."""
    check(suite.verdict(claim.id))


@pytest.mark.parametrize("claim", _declared("family"))
def test_claim_on_family(claim, family, protocol, pytestconfig, store):
    """The claim on a family, from the verdicts of the run's models of that family."""
    from claims.conftest import suite_for
    from fixtures.models import loaded
    from fixtures.options import selected_families
    from icl_core.papers.cheng2026.profiles import get_profile

    profile = get_profile(pytestconfig.getoption("--profile"))
    suites = [suite_for(loaded(name, pytestconfig), protocol, profile, store)
              for name in selected_families(pytestconfig)[family]]  # fmt: skip
    check(claim.decide_family(family_inputs(suites), family, protocol))
