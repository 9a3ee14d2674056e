"""The parallel precompute of `icl-claims run` (`icl_core.papers.cheng2026.schedule`): its job
graph, its priorities, and that the tests afterwards find every unit stored (they only read)."""

from __future__ import annotations

import dataclasses

import pytest

from icl_core.models.loading import load_model
from icl_core.models.tiny import tiny_model
from icl_core.papers.cheng2026 import schedule
from icl_core.papers.cheng2026.design import HEADLINE
from icl_core.papers.cheng2026.profiles import get_profile
from icl_core.papers.cheng2026.suite import ModelSuite
from icl_core.store import ResultsStore

PAIRS = (HEADLINE, ("repeat_word", "repeat_comma"))


def test_plan_splits_each_model_into_pair_sweeps_and_the_rest():
    profile = dataclasses.replace(get_profile("full"), sweep_pairs=PAIRS)
    jobs = {j.name: j for j in schedule.plan(["big", "small"], profile, {"big": 4, "small": 1}.get)}
    assert len(jobs) == 2 * (2 * len(PAIRS) + 2)
    single = jobs["big single repeat_word->repeat_comma"]
    assert single.after == ("big multi repeat_word->repeat_comma",)
    assert jobs["big at best layer"].after == ("big multi uppercase->repeat_word",)
    assert jobs["big clean"].after == ()
    head = "big multi uppercase->repeat_word"
    assert jobs[head].cost == 4 * jobs["small multi uppercase->repeat_word"].cost
    path = schedule.critical_path(list(jobs.values()))
    assert path[head] == jobs[head].cost + max(jobs["big single uppercase->repeat_word"].cost,
                                               jobs["big at best layer"].cost)  # fmt: skip
    assert max(path, key=path.get) == head


@pytest.mark.slow
def test_precomputed_units_are_all_the_tests_need(tmp_path, monkeypatch):
    """Two worker processes compute every rigorous experiment of a model; a suite in this
    process then computes nothing (no store miss): the units are the ones the tests ask for."""
    monkeypatch.setenv("ICL_CLAIMS_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "tiny-llama"
    tm = tiny_model("llama")
    tm.model.save_pretrained(folder, safe_serialization=True)
    tm.tokenizer.save_pretrained(folder)
    profile = dataclasses.replace(get_profile("ci"), sweep_pairs=PAIRS, n_multi=2, n_single=2,
                                  n_controls=2, n_thresholds=2, n_matrix=1, n_tracing=2,
                                  n_probe_prompts=4, n_similarity_prompts=2, n_competence=2,
                                  cap_multi=2, cap_single=1, round_size=1)  # fmt: skip
    jobs = schedule.plan([str(folder)], profile, lambda m: 1.0)
    messages: list[str] = []
    done = schedule.run_jobs(jobs, profile, "cpu", "float32", 2, messages.append)
    assert set(done) == {j.name for j in jobs}
    assert all(isinstance(s, float) for s in done.values()), done
    store = ResultsStore()
    suite = ModelSuite(load_model(str(folder), device="cpu", dtype="float32"), profile,
                       "rigorous", store)  # fmt: skip
    for step in (*schedule.AT_BEST_LAYER, *schedule.CLEAN, "multi", "single"):
        getattr(suite, step)
    assert store.stats.misses == 0 and store.stats.hits > 0
    assert sum(m.startswith("schedule: done") for m in messages) == len(jobs)


@pytest.mark.slow
def test_a_failed_job_is_reported_and_its_dependents_are_not_run():
    profile = get_profile("ci")
    jobs = schedule.plan(["no-such-model-xyz"], profile, lambda m: 1.0)
    done = schedule.run_jobs(jobs, profile, "cpu", "float32", 1, lambda m: None)
    assert set(done) == {j.name for j in jobs}
    assert all(isinstance(v, str) for v in done.values())
    assert any(v.startswith("not run") for v in done.values())


def _die(job) -> float:
    import os

    os._exit(3)  # a worker killed mid-job (the OOM killer, kill -9)


@pytest.mark.slow
def test_a_dead_worker_fails_its_jobs_instead_of_hanging():
    profile = get_profile("ci")
    jobs = schedule.plan(["smollm2-135m"], profile, lambda m: 1.0)
    messages: list[str] = []
    done = schedule.run_jobs(jobs, profile, "cpu", "float32", 2, messages.append, runner=_die)
    assert set(done) == {j.name for j in jobs}
    assert all(isinstance(v, str) and "worker process died" in v for v in done.values())
    assert any("FAILED" in m for m in messages)
