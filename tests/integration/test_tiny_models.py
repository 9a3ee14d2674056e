"""Tiny random models: every architecture builds fast, runs, and is deterministic."""

import time

import pytest
import torch

from icl_core.errors import UnknownNameError
from icl_core.models.loading import decoder_layers
from icl_core.models.tiny import TINY_ARCHS, TINY_LAYERS, tiny_config, tiny_model, tiny_tokenizer


def test_each_arch_runs_forward(tiny):
    enc = tiny.tokenizer(
        "Input: apple\nOutput: APPLE\n\nInput: brain\nOutput:", return_tensors="pt"
    )
    logits = tiny.model(**enc).logits
    assert logits.shape == (1, enc["input_ids"].shape[1], len(tiny.tokenizer))
    assert torch.isfinite(logits).all()
    assert len(decoder_layers(tiny.model)) == TINY_LAYERS == tiny.n_layers


@pytest.mark.parametrize("arch", TINY_ARCHS)
def test_deterministic_per_seed_and_fast(arch):
    start = time.perf_counter()
    a, b, c = tiny_model(arch, seed=0), tiny_model(arch, seed=0), tiny_model(arch, seed=1)
    assert time.perf_counter() - start < 30
    wa, wb, wc = (next(m.model.parameters()) for m in (a, b, c))
    assert torch.equal(wa, wb) and not torch.equal(wa, wc)


def test_tokenizer_variants_bos_and_merged_newlines():
    with_bos, without = tiny_tokenizer(add_bos=True), tiny_tokenizer(add_bos=False)
    text = "Input: apple\nOutput: APPLE\n\nInput: brain"
    assert with_bos(text).input_ids[0] == with_bos.bos_token_id
    assert without(text).input_ids[0] != without.bos_token_id
    assert "ĊĊ" in without.convert_ids_to_tokens(without(text).input_ids)
    for tok in (with_bos, without):
        assert tok.is_fast and tok(text, return_offsets_mapping=True)["offset_mapping"]


def test_unknown_arch_names_valid_choices():
    with pytest.raises(UnknownNameError, match="llama"):
        tiny_config("mamba", vocab_size=10)
