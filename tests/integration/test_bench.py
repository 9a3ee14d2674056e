"""The benchmark's pieces run on a tiny model and refuse to benchmark nothing."""

import pytest

from fixtures.models import tiny_loaded
from icl_core.bench import (
    bench_generation,
    bench_matrix,
    bench_plain_prefill,
    bench_shared_draws,
    bench_sweep,
)
from icl_core.errors import InterventionError


@pytest.fixture(scope="module")
def tiny_lm():
    return tiny_loaded("llama")


def test_generation_timings_are_positive(tiny_lm):
    plain, patched = bench_generation(tiny_lm, n_prompts=2)
    assert plain > 0 and patched > 0


def test_a_model_without_valid_trials_is_benchmarked_on_untested_prompts(tiny_lm):
    """A random model fails the clean task: the sweep still runs (issue 15) and says so."""
    sweep = bench_sweep(tiny_lm, n_trials=1)
    assert sweep.prompts == "untested" and sweep.trials == 1
    assert sweep.conditions == 8 * tiny_lm.info.n_layers
    assert sweep.naive_s > 0 and sweep.optimized_s > 0 and sweep.identical
    # every condition recomputes at most the whole prompt through every block, at least one
    # position through one
    n = sweep.conditions
    assert n / tiny_lm.info.n_layers <= sweep.recomputed_tokens <= n * len(sweep.target_ids)
    assert bench_plain_prefill(tiny_lm, sweep.target_ids, batch=2) > 0


def test_the_matrix_figure_counts_drawn_and_counted_trials(tiny_lm):
    seconds, drawn, counted = bench_matrix(tiny_lm, n_trials=1)
    assert seconds > 0 and drawn == 4 and counted == 0  # a random model answers nothing


def test_the_sharing_figure_times_the_same_draws_both_ways(tiny_lm):
    draws = bench_shared_draws(tiny_lm, n_draws=1)
    assert draws["pairs"] == 12 and draws["identical"]
    assert draws["own_s"] > 0 and draws["shared_s"] > 0


def test_a_sweep_with_no_pair_to_lay_out_is_an_error(tiny_lm, monkeypatch):
    from icl_core import bench

    monkeypatch.setattr(
        bench, "prepare_pair", lambda *a, **k: bench.PreparedPair(None, excluded="layout_error")
    )
    with pytest.raises(InterventionError, match="no uppercase -> repeat_word pair in 50 seeds"):
        bench_sweep(tiny_lm, n_trials=1)


@pytest.mark.slow
def test_the_whole_bench_reports_every_figure(tiny_lm):
    from icl_core.bench import run_bench

    result = run_bench(tiny_lm, n_prompts=1, n_trials=1).as_dict()
    assert result["sweep_outcomes_identical"] and result["matrix_sharing_identical"]
    assert result["matrix_group_pairs"] == 12 and result["matrix_sharing_speedup"] > 0
    assert all(v is not None for v in result.values())
