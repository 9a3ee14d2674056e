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


def test_sweep_without_valid_trials_is_an_error(tiny_lm):
    with pytest.raises(InterventionError, match="no valid uppercase -> repeat_word trial"):
        bench_sweep(tiny_lm, n_trials=1)
