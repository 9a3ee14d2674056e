"""The engine: batched/prefix-reusing generation equals the naive path; continuation scoring;
trial preparation, exclusions and classification."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from icl_core import engine
from icl_core.engine import PromptEdit, generate
from icl_core.errors import InterventionError, PromptTooLongError
from icl_core.interventions import capture_residual
from icl_core.kernels import Condition
from icl_core.models.loading import LoadedModel, ModelInfo, decoder_layers
from icl_core.models.tiny import tiny_model
from icl_core.prompts import render
from icl_core.replay import clean_prefill, replayable
from icl_core.scoring import classify, exclusion
from icl_core.tasks import ICLExample, TaskPair
from icl_core.trials import prepare_pair, run_conditions

BUDGET = 1  # one token: a full patch fixes the first token, later ones see clean KV
PROMPT = "Input: apple\nOutput: APPLE\n\nInput: brain\nOutput: BRAIN\n\nInput: cloud\nOutput:"


def _ids(tiny):
    return tiny.tokenizer(PROMPT).input_ids


def _states(tiny, ids):
    with torch.inference_mode(), capture_residual(tiny.model) as st_:
        tiny.model(torch.tensor([ids], device=tiny.device))
    return {k: v[0] for k, v in st_.items()}


def _same(a, b, atol=1e-5):
    assert [g.token_ids for g in a] == [g.token_ids for g in b]
    for x, y in zip(a, b, strict=True):
        torch.testing.assert_close(x.last_logits, y.last_logits, rtol=0, atol=atol)
        assert x.continuation_logprobs == pytest.approx(y.continuation_logprobs, abs=1e-4)


def test_clean_generation_matches_hf_generate(tiny):
    ids = _ids(tiny)
    (ours,) = generate(tiny.model, tiny.tokenizer, ids, [[]], max_new_tokens=6)
    ref = tiny.model.generate(torch.tensor([ids]), max_new_tokens=len(ours.token_ids),
                              do_sample=False, pad_token_id=0)  # fmt: skip
    assert ours.token_ids == tuple(ref[0, len(ids) :].tolist())


def test_an_unedited_variant_with_a_clean_run_is_decoded_from_it_without_a_forward(tiny):
    """With a CleanRun holding the whole prompt's K/V, unedited rows start from its cache and
    final logits: no prefill forward runs, and the greedy tokens and logits are those of the
    naive full forward."""
    ids = _ids(tiny)
    clean = clean_prefill(tiny.model, ids)
    naive = generate(tiny.model, tiny.tokenizer, ids, [[], []], max_new_tokens=6,
                     reuse_prefix=False, batch_size=1)  # fmt: skip
    widths = []
    hook = tiny.model.register_forward_pre_hook(
        lambda _m, args, kwargs: widths.append(kwargs["input_ids"].shape[-1]), with_kwargs=True
    )
    try:
        reused = generate(tiny.model, tiny.tokenizer, ids, [[], []], max_new_tokens=6,
                          clean=clean)  # fmt: skip
    finally:
        hook.remove()
    _same(reused, naive)
    # decoding steps only; a cache that does not hold the whole prompt (a sliding window
    # shorter than it) cannot stand for the prefill, which then runs as before
    whole = replayable(clean, len(decoder_layers(tiny.model)) - 1)
    assert set(widths) == ({1} if whole else {len(ids) - 1, 1})


@settings(max_examples=6)
@given(data=st.data(), short=st.booleans())
def test_optimized_sweep_equals_naive_sweep(tiny_on_device, data, short):
    """Prefix reuse + replay of clean blocks + batching over layers and position sets == one
    full forward per variant. (Gemma's tiny sliding window of 16 tokens makes long prompts
    non-replayable: both branches are covered.)"""
    tiny = tiny_on_device
    ids = _ids(tiny)[: 12 if short else None]
    n = len(ids)
    states = _states(tiny, ids)
    sets = [tuple(sorted(data.draw(st.sets(st.integers(1, n - 1), min_size=1, max_size=6))))
            for _ in range(3)]  # fmt: skip
    variants = [[]]
    for pos in sets:
        for layer in range(tiny.n_layers):
            noise = torch.randn(len(pos), 32, generator=torch.Generator().manual_seed(layer))
            noise = noise.to(tiny.device)
            variants.append([PromptEdit(layer, pos, states[layer][list(pos)] + noise)])
    conts = [[5, 6, 7], [9]]
    replays = []
    real = engine.replay_blocks
    clean = clean_prefill(tiny.model, ids)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(engine, "replay_blocks", lambda *a: replays.append(a[2]) or real(*a))
        fast = generate(tiny.model, tiny.tokenizer, ids, variants, 5, conts, 7, clean=clean)
    window = getattr(tiny.model.config, "sliding_window", None)
    assert bool(replays) == (window is None or len(ids) < window)
    naive = generate(tiny.model, tiny.tokenizer, ids, variants, 5, conts, batch_size=1,
                     reuse_prefix=False)  # fmt: skip
    _same(fast, naive)


def test_continuation_logprobs_are_teacher_forced(tiny):
    ids = _ids(tiny)
    cont = [11, 12, 13]
    (g,) = generate(tiny.model, tiny.tokenizer, ids, [[]], 2, [cont])
    with torch.inference_mode():
        logp = torch.log_softmax(tiny.model(torch.tensor([ids + cont])).logits[0].float(), -1)
    expected = sum(logp[len(ids) - 1 + i, t].item() for i, t in enumerate(cont))
    assert g.continuation_logprobs[0] == pytest.approx(expected, abs=1e-4)


def test_generate_bad_input(tiny):
    ids = _ids(tiny)
    with pytest.raises(InterventionError, match="outside the prompt"):
        generate(
            tiny.model, tiny.tokenizer, ids, [[PromptEdit(0, (len(ids),), torch.zeros(1, 32))]]
        )
    with pytest.raises(InterventionError, match="out of range"):
        generate(tiny.model, tiny.tokenizer, ids, [[PromptEdit(9, (1,), torch.zeros(1, 32))]])


def test_classify_hand_made_cases():
    assert classify(" apple apple\nInput: x", "apple apple", "APPLE") == "transfer"
    assert classify("APPLE  \n", "apple apple", "APPLE") == "preserve"
    assert classify("APPLE.", "apple apple", "APPLE") == "malformed"
    assert classify("", "apple apple", "APPLE") == "malformed"
    assert exclusion("kayak", "kayak", "kayak") == "ambiguous"
    assert exclusion(None, "APPLE", None) == "source_inapplicable"
    assert exclusion("apple apple", "APPLE", "APPL\n") == "clean_target_wrong"
    assert exclusion("apple apple", "APPLE", " APPLE\n\nInput") is None


def _lm(tiny):
    info = ModelInfo("tiny", tiny.arch, tiny.n_layers, 32, "float32", "cpu", "", None, "tiny",
                     "", type(tiny.model).__name__, 0.0)  # fmt: skip
    return LoadedModel(tiny.model, tiny.tokenizer, info)


def _greedy(lm, text):
    ids = lm.tokenizer(text).input_ids
    (g,) = generate(lm.model, lm.tokenizer, ids, [[]], BUDGET)
    return g.answer


def _pair(lm):
    """A paired counterfactual whose demo outputs have equal token counts, with 'answers'
    defined as the tiny model's own clean greedy outputs (so the clean target is correct)."""
    one_token = [w for w in ("a", "b", "c", "x", "y", "z", "A", "B", "C", "cat", "dog", "sad",
                             "hot", "big", "bad", "good")
                 if len(lm.tokenizer.encode(" " + w, add_special_tokens=False)) == 1]  # fmt: skip
    assert len(one_token) >= 6, one_token
    inputs = ("apple", "brain", "cloud")
    demos_t = tuple(zip(inputs, one_token[:3], strict=True))
    demos_s = tuple(zip(inputs, one_token[3:6], strict=True))

    t = ICLExample("t", demos_t, "river", "")
    s = ICLExample("s", demos_s, "river", "")
    t_ans, s_ans = _greedy(lm, render(t).text), _greedy(lm, render(s).text)
    t, s = ICLExample("t", demos_t, "river", t_ans), ICLExample("s", demos_s, "river", s_ans)
    return TaskPair(s, t, True, t_ans == s_ans, s_ans)


def _distinct_pair(tiny):
    """(model, pair) for the first random init whose answers to the two prompts differ."""
    for seed in range(20):
        lm = _lm(tiny_model(tiny.arch, seed=seed))
        pair = _pair(lm)
        if not pair.ambiguous and pair.target.answer and pair.source.answer:
            return lm, pair
        assert prepare_pair(lm, pair, max_new_tokens=BUDGET).excluded == "ambiguous"
    pytest.fail("no seed gave distinct answers")


def test_trial_pipeline_transfer_preserve_and_exclusions(tiny):
    lm, pair = _distinct_pair(tiny)
    prep = prepare_pair(lm, pair, max_new_tokens=BUDGET)
    assert prep.excluded is None and prep.source_clean_correct
    assert len(prep.target) == len(prep.source)
    conds = [Condition("all_positions", 0), Condition("last_demo_token", tiny.n_layers - 1)]
    full, last = run_conditions(lm, prep, conds)
    # every state from the source at block 0: the final logits, hence the first token, are the
    # source's
    assert full.outcome == "transfer" and full.output == pair.source.answer
    # the last block's output at a non-final position influences nothing downstream
    assert last.outcome == "preserve"
    assert full.n_unmatched == 0
    assert full.target_positions == full.source_positions


def test_trial_exclusions_are_named(tiny):
    lm = _lm(tiny)
    demos = (("apple", "APPLE"), ("brain", "BRAIN"))
    t = ICLExample("uppercase", demos, "river", "RIVER")
    s = ICLExample("repeat_word", (("apple", "apple apple"), ("brain", "brain brain")), "river",
                   "river river")  # fmt: skip
    assert prepare_pair(lm, TaskPair(s, t, True, False, None)).excluded == "source_inapplicable"
    amb = TaskPair(s, t, True, True, "RIVER")
    assert prepare_pair(lm, amb).excluded == "ambiguous"
    wrong = prepare_pair(lm, TaskPair(s, t, True, False, "river river"))
    assert wrong.excluded == "clean_target_wrong"  # random weights do not answer RIVER
    with pytest.raises(ValueError, match="excluded"):
        run_conditions(lm, wrong, [Condition("all_demo", 0)])


def test_a_prompt_beyond_the_context_is_excluded_as_too_long(tiny, monkeypatch):
    """The context is checked in one place (`context_window.check_context`): prompt plus decoding
    budget; a trial beyond it is excluded as `too_long`, never as a layout error."""
    lm, pair = _distinct_pair(tiny)
    config = lm.model.config
    n = len(lm.tokenizer(render(pair.target).text).input_ids)
    monkeypatch.setattr(config, "max_position_embeddings", n)  # the budget won't fit
    assert prepare_pair(lm, pair, max_new_tokens=BUDGET).excluded == "too_long"
    with pytest.raises(PromptTooLongError, match=f"{n + 1} tokens .* context of {n}$"):
        generate(lm.model, lm.tokenizer, list(range(n)), [[]], 1)
    monkeypatch.setattr(config, "max_position_embeddings", 3)
    with pytest.raises(PromptTooLongError, match="context of 3$"):
        clean_prefill(lm.model, [1, 2, 3, 4])
    monkeypatch.setattr(config, "max_position_embeddings", n + BUDGET)
    with pytest.warns(UserWarning, match="within 10% of the model's context"):
        assert prepare_pair(lm, pair, max_new_tokens=BUDGET).excluded != "too_long"
