"""The benchmark's pieces run on a tiny model and refuse to benchmark nothing."""

import pytest

from fixtures.models import tiny_loaded
from icl_core.bench import bench_generation, bench_sweep
from icl_core.errors import InterventionError


@pytest.fixture(scope="module")
def tiny_lm():
    return tiny_loaded("llama")


def test_generation_timings_are_positive(tiny_lm):
    plain, patched = bench_generation(tiny_lm, n_prompts=2)
    assert plain > 0 and patched > 0


def test_a_model_without_valid_trials_is_benchmarked_on_untested_prompts(tiny_lm):
    """A random model fails the clean task: the sweep still runs (issue 15) and says so."""
    trials, n_conds, naive, opt, identical, kind = bench_sweep(tiny_lm, n_trials=1)
    assert kind == "untested" and trials == 1 and n_conds == 8 * tiny_lm.info.n_layers
    assert naive > 0 and opt > 0 and identical


def test_a_sweep_with_no_pair_to_lay_out_is_an_error(tiny_lm, monkeypatch):
    from icl_core import bench

    monkeypatch.setattr(
        bench, "prepare_pair", lambda *a, **k: bench.PreparedPair(None, excluded="layout_error")
    )
    with pytest.raises(InterventionError, match="no uppercase -> repeat_word pair in 50 seeds"):
        bench_sweep(tiny_lm, n_trials=1)
