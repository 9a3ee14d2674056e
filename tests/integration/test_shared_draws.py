"""Clean work shared across a draw's pairs (issue 17.1): the results of each pair's own runs."""

from __future__ import annotations

import itertools

import pytest
import torch

from fixtures.models import tiny_loaded
from icl_core.experiments import patching
from icl_core.experiments.patching import PatchingConfig, run_group, run_patching
from icl_core.kernels import Condition
from icl_core.models.tiny import TINY_ARCHS
from icl_core.tasks import sample_draw
from icl_core.trials import CleanRuns, prepare_pair, run_conditions

GROUP = ("uppercase", "first_letter", "repeat_word", "length")
CONDITIONS = [Condition(ps, layer) for ps in ("all_demo", "last_separator") for layer in (0, 1)]


class UnsharedRuns(CleanRuns):
    """Every prompt computed afresh: what each pair's own run gives."""

    def run(self, lm, input_ids, budget):
        return CleanRuns().run(lm, input_ids, budget)


def test_shared_clean_runs_prepare_each_pair_as_its_own_runs(tiny):
    """Every pair of a draw, prepared with the draw's shared runs and on its own (wrong
    clean answers allowed, so every condition runs): equal preparation, states and results."""
    shared = CleanRuns()
    for pair in sample_draw(GROUP, seed=0).values():
        own = prepare_pair(tiny, pair, allow_wrong=True)
        got = prepare_pair(tiny, pair, allow_wrong=True, runs=shared)
        for field in ("excluded", "untested", "clean_target_output", "source_clean_correct",
                      "max_new_tokens", "continuations"):  # fmt: skip
            assert getattr(got, field) == getattr(own, field), field
        if own.excluded:
            continue
        for layer, states in own.source_states.items():
            assert torch.equal(got.source_states[layer], states)
        assert run_conditions(tiny, got, CONDITIONS) == run_conditions(tiny, own, CONDITIONS)


def test_a_clean_run_decoded_within_a_smaller_budget_is_the_longer_decodes_prefix(tiny):
    pair = next(iter(sample_draw(GROUP, seed=3).values()))
    ids = prepare_pair(tiny, pair, allow_wrong=True).target.input_ids
    runs = CleanRuns()
    long_text = runs.run(tiny, ids, 9)[1]
    for budget in (1, 4, 9, 12):
        assert runs.run(tiny, ids, budget)[1] == CleanRuns().run(tiny, ids, budget)[1]
    assert long_text == CleanRuns().run(tiny, ids, 9)[1]


@pytest.mark.parametrize("arch", TINY_ARCHS)
def test_a_group_run_equals_its_pairs_run_on_their_own_runs(arch, monkeypatch):
    tiny = tiny_loaded(arch)
    cfg = PatchingConfig("matrix", tuple(itertools.permutations(GROUP, 2)), ("all_demo",), (1,),
                         n_trials=2, shared_draws=True)  # fmt: skip
    shared = run_group(tiny, cfg, GROUP)
    monkeypatch.setattr(patching, "CleanRuns", UnsharedRuns)
    assert run_group(tiny, cfg, GROUP) == shared
    assert len(shared) == 2 * 12 and len({r.seed for r in shared}) == 2


def test_shared_draws_run_groups_together_and_other_pairs_alone():
    tiny = tiny_loaded("qwen2")
    pairs = (*itertools.permutations(GROUP, 2), ("sentiment", "uppercase"))
    cfg = PatchingConfig("matrix", pairs, ("all_demo",), (1,), n_trials=1, shared_draws=True)
    records = run_patching(tiny, cfg)
    assert sorted({(r.source_task, r.target_task) for r in records}) == sorted(pairs)
    group_seeds = {r.seed for r in records if r.source_task != "sentiment"}
    assert len(group_seeds) == 1  # one draw for the whole group
    keys = {repr(sorted(cfg.unit([p]).items())) for p in pairs}
    assert "shared_draws" not in PatchingConfig("m", pairs[:1], ("all_demo",)).unit(pairs[:1])
    assert len(keys) == len(pairs)
