"""Causal tracing under the paper's protocol on tiny random models: the paper's positions and
absolute noise scales, exclusions counted, ingredient switches, determinism and the store."""

import dataclasses

import pytest

import icl_core.papers.cheng2026.protocol.tracing as T
from fixtures.models import tiny_loaded
from icl_core.errors import InvalidChoiceError
from icl_core.papers.cheng2026.protocol.ingredients import capture, prompt_example
from icl_core.store import ResultsStore


@pytest.fixture(scope="module")
def llama():
    return tiny_loaded("llama")


def correct_always(monkeypatch):
    """A random tiny model answers nothing correctly: make every output count as correct so
    that the noise conditions run."""
    monkeypatch.setattr(T, "clean_correct", lambda *a: True)


def test_config_is_checked():
    with pytest.raises(InvalidChoiceError, match="positive"):
        T.PaperTracingConfig(("uppercase",), sigmas=(0.0,))
    with pytest.raises(InvalidChoiceError, match="sampled"):
        T.PaperTracingConfig(("uppercase",), demos="random")
    cfg = T.PaperTracingConfig(("uppercase",), positions="roles")
    assert cfg.protocol == "paper+positions=roles" and cfg.sigmas == (0.5, 1.0, 2.0, 5.0)


def test_clean_wrong_prompts_are_excluded_and_counted(llama):
    cfg = T.PaperTracingConfig(("uppercase",), layers=(0,), n_trials=2, sigmas=(1.0,))
    records = T.run_task(llama, cfg, "uppercase")
    assert len(records) == 2 * len(T.TRACING_POSITIONS)
    assert {r.excluded for r in records} == {"clean_target_wrong"}  # a random model


def test_noise_at_the_papers_positions(llama, monkeypatch):
    correct_always(monkeypatch)
    cfg = T.PaperTracingConfig(("uppercase",), layers=(0, 2), n_trials=2, sigmas=(0.5, 5.0))
    records = T.run_task(llama, cfg, "uppercase")
    assert len(records) == 2 * 2 * 2 * 2  # trials x sigmas x positions x layers
    prompt = capture(llama, cfg.way, prompt_example(cfg.way,
                     "uppercase", 0), (), clean_output=False)  # fmt: skip
    first = [r for r in records if r.seed == records[0].seed]
    where = {r.position_set: r.target_positions for r in first}
    assert where == {"query_first": (prompt.paper.query_first,),
                     "last_demo_token": (prompt.paper.last_demo_token,)}  # fmt: skip
    assert {r.condition for r in records} == {"sigma=0.5", "sigma=5"}
    assert {r.outcome for r in records} == {"correct"} and records[0].protocol == "paper"
    assert T.run_task(llama, cfg, "uppercase") == records  # deterministic


def test_roles_and_sampled_demos(llama, monkeypatch):
    correct_always(monkeypatch)
    cfg = T.PaperTracingConfig(("uppercase",), layers=(1,), n_trials=1, sigmas=(1.0,),
                               demos="sampled", positions="roles")  # fmt: skip
    records = T.run_task(llama, cfg, "uppercase")
    assert {r.protocol for r in records} == {"paper+demos=sampled+positions=roles"}
    assert {r.condition for r in records} == {"demos=sampled,positions=roles,sigma=1"}
    fixed = prompt_example(T.PaperTracingConfig(("uppercase",)).way, "uppercase", 0)
    assert records[0].target_prompt.split("\n")[0] != f"Input: {fixed.demos[0][0]}"


def test_stored_once(llama, monkeypatch, tmp_path):
    correct_always(monkeypatch)
    store = ResultsStore(tmp_path)
    cfg = T.PaperTracingConfig(("uppercase",), layers=(0,), n_trials=1, sigmas=(1.0,))
    first = T.run_paper_tracing(llama, cfg, store)
    assert T.run_paper_tracing(llama, cfg, store) == first
    assert store.stats.hits == 1 and store.stats.misses == 1
    assert T.run_paper_tracing(llama, dataclasses.replace(cfg, seed=1), store) != []
