"""C4: C2 and C3 generalize across families (LLaMA, Qwen, Gemma).

Paper: upper->repeat best-layer transfer 0.90 / 0.60 / 0.90 / 0.40 (N=10).
Measurement: the C2 and C3 verdicts of the run's models of one family (one test per family).
Assertion: `icl_core.verdicts.c4` (rule, thresholds and error control stated there).
"""

import pytest

from claims._verdict import check
from icl_core import verdicts as V
from icl_core.models.loading import load_model

pytestmark = [pytest.mark.claim("C4"), pytest.mark.zoo, pytest.mark.slow]


def test_c04_family(family, protocol, pytestconfig, store):
    """C4: C2 and C3 hold on at least one of the family's models in the run."""
    from claims.conftest import _SUITES, _progress
    from fixtures.options import selected_families
    from icl_core.experiments.profiles import get_profile
    from icl_core.experiments.suite import ModelSuite

    profile = get_profile(pytestconfig.getoption("--profile"))
    per_model = {}
    for name in selected_families(pytestconfig)[family]:
        key = (name, protocol, profile.name)
        if key not in _SUITES:
            lm = load_model(name, pytestconfig.getoption("--device"),
                            pytestconfig.getoption("--dtype"))  # fmt: skip
            _SUITES[key] = ModelSuite(lm, profile, protocol, store, _progress)
        s = _SUITES[key]
        per_model[s.model] = (s.lm.info.family, s.verdict("C2"), s.verdict("C3"))
    check(V.c4(per_model, family, protocol))
