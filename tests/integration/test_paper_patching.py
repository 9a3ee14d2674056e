"""The paper's patching protocol (SPEC 6) on tiny random models: its layer grid, its absolute
positions and mean source (SPEC 2.1 flaws 1 and 4), the ingredient switches (roles, strict
scorer, paired source, sampled demos), complete and deterministic records, the store."""

import dataclasses

import pytest
import torch

import icl_core.papers.cheng2026.protocol.patching as pp
from fixtures.models import tiny_loaded
from icl_core import kernels
from icl_core.engine import Generation
from icl_core.errors import InvalidChoiceError, UnknownNameError
from icl_core.experiments.patching import third_task
from icl_core.papers.cheng2026.protocol import paper_example
from icl_core.papers.cheng2026.protocol.ingredients import (
    capture,
    paper_layer_grid,
    prompt_example,
    score_outcome,
)
from icl_core.papers.cheng2026.protocol.patching import (
    POSITION_SETS,
    PaperPatchingConfig,
    patch_plan,
    run_paper_pair,
    run_paper_patching,
)
from icl_core.papers.cheng2026.protocol.positions import paper_positions
from icl_core.papers.cheng2026.protocol.tracing import paper_noise_sigmas
from icl_core.prompts import render
from icl_core.records import aggregate
from icl_core.store import ResultsStore

FAST = dict(max_new_tokens=3, n_source_prompts=3)


def prompt_text(task: str, i: int) -> str:
    return render(paper_example(task, i), "paper").text


@pytest.fixture(scope="module")
def llama():  # BOS-prepending tiny tokenizer
    return tiny_loaded("llama")


@pytest.fixture(scope="module")
def qwen():  # no BOS, "\n\n" merged
    return tiny_loaded("qwen2")


def test_paper_layer_grid():
    assert paper_layer_grid(28) == [8, 12, 14, 16]
    assert paper_layer_grid(30) == [9, 13, 15, 17]
    assert paper_layer_grid(16) == [4, 7, 8, 9]
    assert paper_noise_sigmas == (0.5, 1.0, 2.0, 5.0)


def test_config_validation_and_naming():
    pair = (("uppercase", "repeat_word"),)
    with pytest.raises(InvalidChoiceError, match="sampled"):
        PaperPatchingConfig("x", pair, demos="random")
    with pytest.raises(UnknownNameError, match="all_demo"):
        PaperPatchingConfig("x", pair, position_sets=("output_lines",))
    with pytest.raises(UnknownNameError, match="paper task"):
        PaperPatchingConfig("x", (("uppercase_period", "repeat_word"),))
    with pytest.raises(InvalidChoiceError, match="50 test inputs"):
        PaperPatchingConfig("x", pair, n_trials=51)
    cfg = PaperPatchingConfig("x", pair)
    assert (cfg.protocol, cfg.condition) == ("paper", "")
    cfg = PaperPatchingConfig("x", pair, scorer="strict", positions="roles")
    assert cfg.protocol == "paper+positions=roles+scorer=strict"
    assert cfg.condition == "positions=roles,scorer=strict"
    # an ablation task outside the release: only with sampled demos and the strict scorer
    PaperPatchingConfig("x", (("uppercase_period", "repeat_word"),), demos="sampled",
                        scorer="strict")  # fmt: skip


def test_paper_positions_are_absolute_and_mean_source_is_trivial(llama):
    """Flaw 4: the paper's sets (computed on the source prompt, BOS not counted) are written at
    the same absolute indices of the target. Flaw 1: with fixed demos the mean over 10 source
    prompts equals each single prompt's states at demo positions."""
    cfg = PaperPatchingConfig("x", (("uppercase", "repeat_word"),), POSITION_SETS, layers=(0, 2),
                              n_trials=2, max_new_tokens=3)  # fmt: skip
    assert cfg.n_source_prompts == 10
    records = run_paper_pair(llama, cfg, "uppercase", "repeat_word")
    assert len(records) == 2 * len(POSITION_SETS) * 2
    tok = llama.tokenizer
    src_pp = paper_positions(prompt_text("uppercase", 0), tok)
    for r in records:
        tgt_pp = paper_positions(r.target_prompt, tok)
        n_target = len(tok(r.target_prompt)["input_ids"])
        if r.position_set in pp.PAPER_SINGLES:  # located in each prompt on its own
            single = pp._single
            assert r.target_positions == (single(tgt_pp, r.position_set),)
            assert r.source_positions == (single(src_pp, r.position_set),)
        else:
            expected = tuple(p for p in src_pp.sets[r.position_set] if p < n_target)
            assert r.target_positions == r.source_positions == expected
        assert r.outcome in {"transfer", "preserve", "malformed"} and r.excluded is None
        assert r.protocol == "paper" and r.condition == ""
    # BOS (index 0) is inside the paper's all_demo set: its counter ignores special tokens
    assert tok("x")["input_ids"][0] == tok.bos_token_id
    assert records[0].target_positions[0] == 0
    # mean of 10 fixed-demo source prompts == any one of them at demo positions
    layers = (0, 2)
    sources = [
        capture(llama, cfg.way, prompt_example(cfg.way, "uppercase", j), layers) for j in range(10)
    ]
    target = capture(llama, cfg.way, prompt_example(cfg.way, "repeat_word", 0), layers)
    for name in pp.PAPER_SET_NAMES:
        plan = patch_plan(cfg.way, name, sources, target)
        assert plan.target_positions and plan.n_unmatched == 0
        assert all(len(c) == 10 for c in plan.contributions)
        for layer in layers:
            mean = plan.values(sources, layer)
            for src in sources:
                single = src.states[layer][list(plan.target_positions)]
                torch.testing.assert_close(mean, single, rtol=1e-5, atol=1e-5)


def test_roles_positions_match_roles(qwen):
    cfg = PaperPatchingConfig("x", (("uppercase", "first_letter"),), POSITION_SETS, layers=(1,),
                              n_trials=2, positions="roles", **FAST)  # fmt: skip
    records = run_paper_pair(qwen, cfg, "uppercase", "first_letter")
    assert len(records) == 2 * len(POSITION_SETS)
    layers = (1,)
    sources = [
        capture(qwen, cfg.way, prompt_example(cfg.way, "uppercase", j), layers) for j in range(3)
    ]
    targets = [
        capture(qwen, cfg.way, prompt_example(cfg.way, "first_letter", i), layers) for i in (0, 1)
    ]
    s_layout = sources[0].layout
    for n, r in enumerate(records):
        assert r.protocol == "paper+positions=roles" and r.condition == "positions=roles"
        t_layout = targets[n // len(POSITION_SETS)].layout
        assert r.target_prompt == t_layout.prompt.text and r.target_positions
        our = pp.ROLE_SET_NAMES.get(r.position_set, r.position_set)
        assert set(r.target_positions) <= set(t_layout.position_set(our))
        for t, s in zip(r.target_positions, r.source_positions, strict=True):
            assert s >= 0 and t_layout.roles[t] == s_layout.roles[s]
    # output_only = our output_lines: "Output:" label included, as the paper counted
    out = next(r for r in records if r.position_set == "output_only")
    roles = {t_layout.roles[t].split(".")[1] for t in out.target_positions}
    assert roles == {"output_label", "output"}
    # "APPLE" has more tokens than "a" nowhere in the target: every target role is matched
    assert out.n_unmatched == 0


def test_scorer_switch_helper():
    """Flaw 3: the pattern scorer reads the first token only, so a repeat_word-style answer
    "grape grape" transfers under the paper's scorer; the strict scorer says preserve."""
    x_pattern, x_word = "kiwi grape kiwi grape kiwi", "grape"
    args = ("pattern_completion", "repeat_word", "grape grape", x_pattern, x_word)
    assert score_outcome("paper", *args) == "transfer"
    assert score_outcome("strict", *args) == "preserve"
    # a source without an answer for the query never transfers (the release's try/except)
    assert score_outcome("paper", "linear_2x", "uppercase", "HONEY", "honey", "honey") == (
        "preserve"
    )
    assert score_outcome("paper", "uppercase", "repeat_word", "junk", "honey", "honey") == (
        "malformed"
    )  # the paper's "neither"


@pytest.mark.parametrize("scorer,expected", [("paper", "preserve"), ("strict", "malformed")])
def test_scorer_switch_in_the_runner(llama, monkeypatch, scorer, expected):
    """Target pattern_completion, query "Z Y Z Y Z" (answer "Y"): the output "Y Y" preserves
    under the paper's first-token scorer and is malformed under the strict one."""

    def fake(model, tokenizer, ids, variants, max_new_tokens, **kw):
        return [Generation("Y Y", "Y Y\n", (), torch.zeros(1)) for _ in variants]

    monkeypatch.setattr(kernels, "generate", fake)
    cfg = PaperPatchingConfig("x", (("repeat_word", "pattern_completion"),), ("all_demo",),
                              layers=(0,), n_trials=1, scorer=scorer, **FAST)  # fmt: skip
    (r,) = run_paper_pair(llama, cfg, "repeat_word", "pattern_completion")
    assert "Z Y Z Y Z" in r.target_prompt and r.output == "Y Y"
    assert r.outcome == expected


def test_paired_source_and_sampled_demos(llama):
    cfg = PaperPatchingConfig("x", (("uppercase", "repeat_word"),), ("all_demo",), layers=(0,),
                              n_trials=2, source="paired", demos="sampled", **FAST)  # fmt: skip
    records = run_paper_pair(llama, cfg, "uppercase", "repeat_word")
    assert [r.protocol for r in records] == ["paper+demos=sampled+source=paired"] * 2
    for r, query in zip(records, ("honey", "frost"), strict=True):
        # the paper's test inputs remain the queries; source and target share the query
        assert r.target_prompt.endswith(f"Input: {query}\nOutput:")
        assert r.source_prompt.endswith(f"Input: {query}\nOutput:")
        assert r.source_clean_correct is False  # a random model
    assert records[0].target_prompt != records[1].target_prompt  # demos drawn per prompt
    assert records[0].target_prompt.split("\n")[0] != "Input: apple"  # not the fixed demos
    again = run_paper_pair(llama, cfg, "uppercase", "repeat_word")
    assert again == records  # deterministic for a seed
    other = run_paper_pair(llama, dataclasses.replace(cfg, seed=1), "uppercase", "repeat_word")
    assert other[0].target_prompt != records[0].target_prompt


def test_records_complete_deterministic_and_stored(qwen, tmp_path):
    store = ResultsStore(tmp_path)
    cfg = PaperPatchingConfig("paper_multi", (("uppercase", "repeat_word"), ("first_letter",
                              "uppercase")), ("output_only", "query_first"), layers=(0, 3),
                              n_trials=2, **FAST)  # fmt: skip
    first = run_paper_patching(qwen, cfg, store)
    assert len(first) == 2 * 2 * 2 * 2  # pairs x trials x sets x layers
    keys = {(r.pair, r.seed, r.position_set, r.layer) for r in first}
    assert len(keys) == len(first)
    assert all(r.outcome is not None or r.excluded for r in first)
    again = run_paper_patching(qwen, cfg, store)
    assert again == first and store.stats.hits == 2 and store.stats.misses == 2
    assert run_paper_patching(qwen, cfg) == first  # computed afresh: the same
    cells = aggregate(first)
    assert {c.n for c in cells} == {2} and {c.protocol for c in cells} == {"paper"}


def test_out_of_range_positions_are_counted_not_fatal(llama, monkeypatch):
    """A source position beyond a source prompt is left out of that prompt's mean; a position
    beyond the target is dropped (the release skipped both silently); a set with nothing inside
    the target is excluded as position_out_of_range."""
    cfg = PaperPatchingConfig("x", (("uppercase", "repeat_word"),), ("all_demo", "last_demo"),
                              layers=(1,), n_trials=1, **FAST)  # fmt: skip
    sources = [
        capture(llama, cfg.way, prompt_example(cfg.way, "uppercase", j), (1,)) for j in range(3)
    ]
    target = capture(llama, cfg.way, prompt_example(cfg.way, "repeat_word", 0), (1,))
    full = patch_plan(cfg.way, "all_demo", sources, target)
    short = dataclasses.replace(sources[1], ids=sources[1].ids[:20])
    plan = patch_plan(cfg.way, "all_demo", [sources[0], short, sources[2]], target)
    assert plan.target_positions == full.target_positions
    n_late = sum(p >= 20 for p in full.target_positions)
    assert plan.n_unmatched == n_late and n_late > 0
    assert [len(c) for c in plan.contributions] == [3 if p < 20 else 2
                                                    for p in plan.target_positions]  # fmt: skip
    cut = dataclasses.replace(target, ids=target.ids[:20])
    plan = patch_plan(cfg.way, "all_demo", sources, cut)
    assert plan.target_positions == tuple(p for p in full.target_positions if p < 20)
    assert plan.n_unmatched == n_late

    real_capture = pp.capture

    def truncated(lm, cfg, example, layers, clean_output=False, keep_run=False):
        out = real_capture(lm, cfg, example, layers, clean_output, keep_run)
        if keep_run:  # the target: keep 20 tokens, so the last demo lies beyond it
            return dataclasses.replace(out, ids=out.ids[:20], clean=None)
        return out

    monkeypatch.setattr(pp, "capture", truncated)
    records = run_paper_pair(llama, cfg, "uppercase", "repeat_word")
    by_set = {r.position_set: r for r in records}
    assert by_set["all_demo"].outcome is not None and by_set["all_demo"].n_unmatched == n_late
    assert by_set["last_demo"].excluded == "position_out_of_range"
    assert by_set["last_demo"].outcome is None and by_set["last_demo"].target_positions == ()


def test_controls_under_the_paper_protocol(llama, monkeypatch):
    """C9's controls on the paper's plan: random source uses a third task's prompts (scored
    against the original source), noise keeps each vector's norm, shuffled permutes the
    vectors; each is named in the condition, and bad names are refused."""
    with pytest.raises(InvalidChoiceError, match="shuffled"):
        PaperPatchingConfig("x", (("uppercase", "repeat_word"),), control="shuffle")
    assert third_task("uppercase", "repeat_word") == "first_letter"  # the release's rule
    assert third_task("uppercase", "repeat_word", "12") == "linear_2x"  # rigorous: accepts it
    base = PaperPatchingConfig("x", (("uppercase", "repeat_word"),), ("all_demo",), layers=(1,),
                               n_trials=1, **FAST)  # fmt: skip
    edits = {}
    real_generate = kernels.generate

    def spy(model, tok, ids, variants, *args, **kw):
        if variants != [[]]:
            edits[key] = variants[0][0].values.clone()
        return real_generate(model, tok, ids, variants, *args, **kw)

    monkeypatch.setattr(kernels, "generate", spy)
    records = {}
    for key in ("", "random_source", "noise_matched", "shuffled"):
        cfg = dataclasses.replace(base, control=key)
        records[key] = run_paper_pair(llama, cfg, "uppercase", "repeat_word")
        (r,) = records[key]
        assert r.protocol == "paper" and r.condition == (key and f"control={key}")
        assert r.source_task == "uppercase" and r.outcome is not None
    assert records["random_source"][0].source_prompt.startswith("Input: ")
    assert records["random_source"][0].source_prompt != records[""][0].source_prompt
    plain = edits[""]
    torch.testing.assert_close(edits["noise_matched"].norm(dim=-1), plain.norm(dim=-1))
    assert not torch.allclose(edits["noise_matched"], plain)
    assert not torch.equal(edits["shuffled"], plain)
    rows = lambda t: sorted(map(tuple, t.tolist()))  # noqa: E731
    assert rows(edits["shuffled"]) == rows(plain)
