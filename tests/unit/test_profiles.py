"""The pre-registered sweep pairs follow from the recorded competence by the fixed rule."""

from icl_core.papers.cheng2026 import profiles as P
from icl_core.tasks import ABLATION_TASKS, PAPER_TASKS

MODELS = ("smollm2-135m", "gemma3-270m", "qwen2.5-coder-0.5b")


def test_sweep_pairs_follow_from_the_recorded_competence():
    accuracy = {m: {t: c[i] / 30 for t, c in P.COMPETENCE_2026_12_02.items()}
                for i, m in enumerate(MODELS)}  # fmt: skip
    tasks = PAPER_TASKS + ABLATION_TASKS
    assert P.preregistered_pairs(accuracy, tasks) == P.SWEEP_PAIRS
    assert P.get_profile("full").sweep_pairs == P.SWEEP_PAIRS


def test_rule_refuses_roles_already_taken_and_low_accuracy():
    acc = {"m": {"uppercase": 0.9, "repeat_word": 0.9, "repeat_comma": 0.9, "antonym": 0.5}}
    pairs = P.preregistered_pairs(acc, ("uppercase", "repeat_word", "repeat_comma", "antonym"))
    assert pairs[0] == P.HEADLINE
    assert all(t != "repeat_word" for _, t in pairs[1:])  # the headline's target role
    assert all("antonym" not in p for p in pairs)
