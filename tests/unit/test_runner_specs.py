"""The suite's patching experiments as specs (`papers/cheng2026/runner`): each is checked at
construction, so a misspelt field fails at once with the valid choices."""

import pytest

from icl_core.errors import InvalidChoiceError
from icl_core.papers.cheng2026 import runner
from icl_core.papers.cheng2026.design import CONTROLS, HEADLINE
from icl_core.papers.cheng2026.profiles import PROFILES, get_profile
from icl_core.tasks import PAPER_TASKS


def _suite_specs() -> list[runner.PatchingSpec]:
    return [runner.multi_sweep(HEADLINE), runner.single_sweep(HEADLINE), runner.THRESHOLDS,
            runner.matrix(PAPER_TASKS), *(runner.control(c) for c in CONTROLS)]  # fmt: skip


@pytest.mark.parametrize("profile", list(PROFILES))
def test_every_spec_reads_trial_counts_the_profile_has(profile: str) -> None:
    p = get_profile(profile)
    for spec in _suite_specs():
        assert getattr(p, f"n_{spec.trials}") >= 1
        if spec.stop in ("multi", "single", "control", "thresholds"):
            assert isinstance(getattr(p, f"cap_{spec.trials}"), int)


@pytest.mark.parametrize(
    "field,value,message",
    [("layers", "some", "layers='some'; valid: .*'all', 'best'"),
     ("trials", "multii", "trials='multii': no Profile.n_multii; valid: .*'multi'"),
     ("control", "noise", "control='noise'; valid: .*'shuffled'"),
     ("stop", "never", "stop='never'; valid: .*'thresholds'"),
     ("trials", "similarity_prompts",
      "stop='multi' needs Profile.cap_similarity_prompts; trials with a cap: .*'multi'")],
)  # fmt: skip
def test_a_bad_spec_field_names_the_valid_choices(field: str, value: str, message: str) -> None:
    fields = {"layers": "all", "trials": "multi", "stop": "multi", field: value}
    with pytest.raises(InvalidChoiceError, match=message):
        runner.PatchingSpec("x", (HEADLINE,), ("all_demo",), **fields)
