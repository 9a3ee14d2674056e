"""The architecture table (issue 15): on a tiny random model of every supported architecture
the engine's fast path (prefix reuse, clean-block replay, batching) equals the naive path and
clean generation equals transformers' own; support and family come from the config alone."""

from __future__ import annotations

import pytest
import torch

from icl_core import engine
from icl_core.cli import main
from icl_core.engine import PromptEdit, generate
from icl_core.errors import ModelLoadError
from icl_core.interventions import capture_residual
from icl_core.models.architectures import ARCHITECTURES
from icl_core.models.loading import load_model
from icl_core.models.tiny import ALL_TINY_ARCHS, tiny_model
from icl_core.replay import clean_prefill

PROMPT = "Input: apple\nOutput: APPLE\n\nInput: brain\nOutput: BRAIN\n\nInput: cloud\nOutput:"


def test_every_table_architecture_has_a_tiny_model():
    types = {tiny_model(a).model.config.model_type for a in ALL_TINY_ARCHS}
    assert types == set(ARCHITECTURES)


@pytest.mark.parametrize("arch", ALL_TINY_ARCHS)
def test_engine_equals_naive_and_hf_generate(arch, run_device, monkeypatch):
    tiny = tiny_model(arch, device=run_device)
    ids = tiny.tokenizer(PROMPT).input_ids
    (ours,) = generate(tiny.model, tiny.tokenizer, ids, [[]], max_new_tokens=6)
    ref = tiny.model.generate(torch.tensor([ids], device=run_device),
                              max_new_tokens=len(ours.token_ids), do_sample=False,
                              pad_token_id=0)  # fmt: skip
    assert ours.token_ids == tuple(ref[0, len(ids) :].tolist())
    with torch.inference_mode(), capture_residual(tiny.model) as captured:
        tiny.model(torch.tensor([ids], device=run_device))
    states = {k: v[0] for k, v in captured.items()}
    n, gen = len(ids), torch.Generator().manual_seed(0)
    variants = [[]] + [[PromptEdit(layer, pos, states[layer][list(pos)] + noise.to(run_device))]
                       for pos in ((3, 7), (n - 1,), (10, 11, 12))
                       for layer in range(tiny.n_layers)
                       for noise in [torch.randn(len(pos), tiny.hidden,
                                                 generator=gen)]]  # fmt: skip
    own = [[PromptEdit(layer, (2, n - 1), states[layer][[2, n - 1]])]
           for layer in range(tiny.n_layers)]  # fmt: skip
    replays = []
    real = engine.replay_blocks
    monkeypatch.setattr(engine, "replay_blocks", lambda *a: replays.append(a[2]) or real(*a))
    fast = generate(tiny.model, tiny.tokenizer, ids, variants + own, 5, [[5, 6, 7], [9]], 7,
                    clean=clean_prefill(tiny.model, ids))  # fmt: skip
    monkeypatch.undo()
    window = getattr(tiny.model.config, "sliding_window", None)
    assert bool(replays) == (window is None or n < window)
    naive = generate(tiny.model, tiny.tokenizer, ids, variants + own, 5, [[5, 6, 7], [9]],
                     batch_size=1, reuse_prefix=False)  # fmt: skip
    assert [g.token_ids for g in fast] == [g.token_ids for g in naive]
    for x, y in zip(fast, naive, strict=True):
        torch.testing.assert_close(x.last_logits, y.last_logits, rtol=0, atol=1e-5)
    for g in fast[len(variants) :]:  # patching a run with its own states changes nothing
        assert g.token_ids == fast[0].token_ids
        torch.testing.assert_close(g.last_logits, fast[0].last_logits, rtol=0, atol=1e-5)


def _folder(tmp_path, arch: str):
    tiny = tiny_model(arch)
    tiny.model.save_pretrained(tmp_path / arch, safe_serialization=True)
    tiny.tokenizer.save_pretrained(tmp_path / arch)
    return tmp_path / arch


def test_family_comes_from_the_architecture_never_a_catch_all(tmp_path):
    from icl_core.models.loading import model_family

    families = {a: model_family(str(_folder(tmp_path, a))) for a in ("mistral", "phi3", "olmo2")}
    assert families == {"mistral": "mistral", "phi3": "phi", "olmo2": "olmo"}
    lm = load_model(str(tmp_path / "phi3"), device="cpu", dtype="float32")
    assert lm.info.family == "phi" and lm.info.n_layers == 4


def test_an_unsupported_architecture_is_refused_from_its_config(tmp_path, capsys, monkeypatch):
    from transformers import T5Config, T5ForConditionalGeneration

    folder = tmp_path / "t5"
    T5ForConditionalGeneration(T5Config(d_model=16, d_ff=32, num_layers=1, num_heads=2,
                                        d_kv=8, vocab_size=64)).save_pretrained(folder)  # fmt: skip
    tiny_model("llama").tokenizer.save_pretrained(folder)
    import transformers

    def never(*a, **k):
        raise AssertionError("weights were loaded")

    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", never)
    with pytest.raises(ModelLoadError, match="unsupported architecture 't5'.*llama"):
        load_model(str(folder), device="cpu", dtype="float32")
    capsys.readouterr()
    assert main(["models", "check", str(folder)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unsupported architecture 't5'" in err[0]
