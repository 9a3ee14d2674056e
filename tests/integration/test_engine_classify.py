"""Classifying without decoding: `generate(decode="unmatched")` decodes only the rows whose
greedy output the teacher-forced continuations do not prove, and returns exactly what
`decode="all"` returns (tokens, text, answers, log-probs, logits), clean and patched."""

import pytest
import torch

from icl_core import engine, forced_scoring
from icl_core.engine import PromptEdit, generate
from icl_core.errors import InvalidChoiceError
from icl_core.models import acquire
from icl_core.models.registry import REGISTRY, get_spec
from icl_core.papers.cheng2026.design import MULTI_SETS
from icl_core.prompts import map_positions
from icl_core.replay import clean_prefill
from icl_core.tasks import sample_pair
from icl_core.trials import prepare_pair

PROMPT = "Input: apple\nOutput: APPLE\n\nInput: brain\nOutput: BRAIN\n\nInput: cloud\nOutput:"


class _Eos:
    """A tokenizer whose EOS is `eos_token_id` (a token the model emits, so rows stop early)."""

    def __init__(self, tokenizer, eos_token_id: int):
        self._tokenizer, self.eos_token_id = tokenizer, eos_token_id

    def __getattr__(self, name):
        return getattr(self._tokenizer, name)


def _same(a, b) -> None:
    for x, y in zip(a, b, strict=True):
        assert (x.token_ids, x.text, x.answer) == (y.token_ids, y.text, y.answer)
        assert x.continuation_logprobs == y.continuation_logprobs
        assert torch.equal(x.last_logits, y.last_logits)


def _counting(monkeypatch) -> list[int]:
    """Rows passed to greedy decoding, per call."""
    calls: list[int] = []
    real = engine._decode

    def counted(model, tokenizer, cache, logits, *args):
        calls.append(len(logits))
        return real(model, tokenizer, cache, logits, *args)

    monkeypatch.setattr(engine, "_decode", counted)
    return calls


def _proven(gens, conts, budget: int, tokenizer) -> tuple[int, int]:
    """Rows whose greedy output is a stop-free continuation that fills the budget, and rows
    whose output is one followed by a stop token: decode="unmatched" may skip only those (and
    decodes those with a near-tie at some step)."""
    memo: dict[int, bool] = {}

    def stop(t: int) -> bool:
        return forced_scoring.is_stop(tokenizer, t, memo)

    def proves(toks: tuple[int, ...], filled: bool) -> bool:
        return any(
            not any(map(stop, c)) and (toks == c if filled else toks[:-1] == c and stop(toks[-1]))
            for c in map(tuple, conts)
            if (len(c) == budget) == filled
        )

    return tuple(sum(proves(g.token_ids, filled) for g in gens) for filled in (True, False))


@pytest.fixture
def one_thread():
    """Tiny models are all per-op overhead: on a loaded 2-core machine 2 threads run them ~30x
    slower than 1."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _check_case(tiny, seed: int) -> tuple[int, int, int]:
    """One random case of the test below; asserts identical results and returns (rows provable
    by a filled budget, rows provable by a stop token, rows not decoded)."""
    gen = torch.Generator().manual_seed(seed)
    tok = tiny.tokenizer
    ids = tok(PROMPT).input_ids
    n, hidden, budget = len(ids), tiny.model.config.hidden_size, 3 + seed % 4
    variants: list[list[PromptEdit]] = [[]]
    for _ in range(7):
        layer = int(torch.randint(tiny.n_layers, (), generator=gen))
        pos = tuple(sorted(set(torch.randint(1, n, (3,), generator=gen).tolist())))
        scale = float(torch.rand((), generator=gen)) * 4
        values = torch.randn(len(pos), hidden, generator=gen) * scale
        variants.append([PromptEdit(layer, pos, values, "add" if layer % 2 else "replace")])
    kw = {"batch_size": 3, "decode_batch": 4, "clean": clean_prefill(tiny.model, ids)}
    if seed % 4 >= 2:
        kw = {"batch_size": 1, "decode_batch": 1, "reuse_prefix": False}
    outs = [g.token_ids for g in generate(tiny.model, tok, ids, variants, budget, **kw)]
    row = 0
    found = ((r, t) for r, o in enumerate(outs) for j, t in enumerate(o[: budget - 1])
             if j and t not in o[:j])  # fmt: skip
    if seed % 2 and (hit := next(found, None)):
        row, eos = hit
        tok = _Eos(tok, eos)
        outs = [o[: o.index(eos) + 1] if eos in o else o for o in outs]
    memo: dict[int, bool] = {}
    own = [o[:-1] if forced_scoring.is_stop(tok, o[-1], memo) else o for o in outs]
    conts = [own[row], own[1 + seed % 7], own[0][:-1] or (7,), (*own[2], 5, 6)]
    conts = [c for c in conts if c] + [tuple(torch.randint(3, 300, (2,), generator=gen).tolist())]
    full = generate(tiny.model, tok, ids, variants, budget, conts, **kw)
    with pytest.MonkeyPatch.context() as mp:
        decoded = _counting(mp)
        fast = generate(tiny.model, tok, ids, variants, budget, conts, decode="unmatched", **kw)
    _same(full, fast)
    # scored=1: the later continuations only prove, on the rows still unproven; the results
    # are the same except their log-probs: nan where an earlier continuation proved the row,
    # else forced in a smaller batch (equal up to float rounding)
    lean = generate(tiny.model, tok, ids, variants, budget, conts, decode="unmatched", scored=1,
                    **kw)  # fmt: skip
    for x, y in zip(full, lean, strict=True):
        assert (x.token_ids, x.text, x.answer) == (y.token_ids, y.text, y.answer)
        assert torch.equal(x.last_logits, y.last_logits)
        assert x.continuation_logprobs[0] == y.continuation_logprobs[0]
        for a, b in zip(x.continuation_logprobs[1:], y.continuation_logprobs[1:], strict=True):
            assert b != b or b == pytest.approx(a, abs=1e-4)  # nan, or forced on fewer rows
    _LEAN_SKIPS.append(sum(b != b for y in lean for b in y.continuation_logprobs))
    return (*_proven(full, conts, budget, tok), len(variants) - sum(decoded))


_LEAN_SKIPS: list[int] = []


@pytest.mark.slow
@pytest.mark.usefixtures("one_thread")
def test_unmatched_equals_full_decoding(tiny):
    """8 seeds of a clean and 7 patched variants (random values, positions, layers, replace or
    add). Continuations: two rows' own greedy outputs (so rows match), a prefix and an overlong
    extension of one (they match nothing) and random tokens. Odd seeds: EOS = a token some row
    emits before its last step, so that row stops early (the stop-token branch). Seeds 2-3 and
    6-7: the naive path (no prefix reuse, batch 1). Near-ties may be decoded, nothing else.
    Some seed must skip a row by its stop token, and some flush mix skipped and decoded rows;
    `scored=1` gives the same results and skips forcing some rows."""
    stop_skips = mixed = 0
    _LEAN_SKIPS.clear()
    for seed in range(8):
        filled, stopped, skipped = _check_case(tiny, seed)
        assert 1 <= skipped <= filled + stopped, seed
        stop_skips += max(0, skipped - filled)
        mixed += skipped < 8
    assert stop_skips > 0 and mixed > 0
    assert sum(_LEAN_SKIPS) > 0  # scored=1 did skip forcing some rows


@pytest.mark.usefixtures("one_thread")
def test_near_ties_are_decoded(monkeypatch):
    """With an infinite tie tolerance no argmax is trusted: every row is decoded, same results."""
    from fixtures.models import get_tiny

    tiny = get_tiny("llama")
    ids = tiny.tokenizer(PROMPT).input_ids
    (g,) = generate(tiny.model, tiny.tokenizer, ids, [[]], 3)
    monkeypatch.setattr(forced_scoring, "TIE_RTOL", float("inf"))
    decoded = _counting(monkeypatch)
    (h,) = generate(tiny.model, tiny.tokenizer, ids, [[]], 3, [g.token_ids], decode="unmatched")
    assert decoded == [1] and h.token_ids == g.token_ids


@pytest.mark.usefixtures("one_thread")
def test_decode_mode_is_checked():
    from fixtures.models import get_tiny

    tiny = get_tiny("llama")
    with pytest.raises(InvalidChoiceError, match="valid modes: all, unmatched"):
        generate(tiny.model, tiny.tokenizer, [1, 5, 6], [[]], 2, decode="some")


@pytest.mark.zoo
@pytest.mark.slow
def test_unmatched_equals_full_decoding_on_zoo(model_name, request, monkeypatch):
    """Real prompts (uppercase -> repeat_word) patched at the bench's 4 multi-position sets x
    every other layer: real newline/EOS stops, several outcomes; results identical, many rows
    not decoded."""
    if model_name in REGISTRY and not acquire.is_available(get_spec(model_name)):
        pytest.skip(f"{model_name} is not in the cache")
    lm = request.getfixturevalue("lm")
    preps = (prepare_pair(lm, sample_pair("uppercase", "repeat_word", seed=s)) for s in range(30))
    prep = next((p for p in preps if p.excluded is None), None)
    if prep is None:
        pytest.skip(f"{model_name}: no valid uppercase -> repeat_word pair in 30 seeds")
    tgt, src = prep.target, prep.source
    variants = [[]]
    for name in MULTI_SETS:
        m = map_positions(src, tgt, tgt.position_set(name))
        for layer in range(0, lm.info.n_layers, 2):
            values = prep.source_states[layer][list(m.source)]
            variants.append([PromptEdit(layer, m.target, values)])
    args = (lm.model, lm.tokenizer, tgt.input_ids, variants, prep.max_new_tokens,
            prep.continuations)  # fmt: skip
    full = generate(*args, clean=prep.target_clean)
    decoded = _counting(monkeypatch)
    fast = generate(*args, clean=prep.target_clean, decode="unmatched")
    _same(full, fast)
    proven = sum(_proven(full, prep.continuations, prep.max_new_tokens, lm.tokenizer))
    skipped = len(variants) - sum(decoded)
    print(f"{model_name}: {skipped} of {len(variants)} rows not decoded ({proven} provable)")
    assert len(variants) // 4 < skipped <= proven
