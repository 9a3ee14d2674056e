"""Residual-stream interventions on every tiny architecture: exactness properties, hook hygiene,
noise scale and bad input."""

import types

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from icl_core.errors import InterventionError
from icl_core.interventions import RowEdit, capture_residual, edit_residual, gaussian_noise
from icl_core.models.loading import decoder_layers

PROMPT = "Input: apple\nOutput: APPLE\n\nInput: brain\nOutput: BRAIN\n\nInput: cloud\nOutput:"


def _ids(tiny):
    return tiny.tokenizer(PROMPT, return_tensors="pt").input_ids.to(tiny.device)


def _run(tiny, ids, edits=None):
    # edit hooks registered first, so the capture sees the edited stream
    with torch.inference_mode(), edit_residual(tiny.model, edits or {}), \
            capture_residual(tiny.model) as states:  # fmt: skip
        logits = tiny.model(ids).logits
    return logits, states


@settings(max_examples=10)
@given(data=st.data())
def test_self_patch_and_empty_patch_change_nothing(tiny_on_device, data):
    tiny = tiny_on_device
    ids = _ids(tiny)
    n = ids.shape[1]
    logits, states = _run(tiny, ids)
    layer = data.draw(st.integers(0, tiny.n_layers - 1))
    pos = tuple(data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True)))
    own = RowEdit(0, pos, states[layer][0, list(pos)])
    empty = RowEdit(0, (), torch.zeros(0, states[layer].shape[-1]))
    for edit in (own, empty):
        patched, _ = _run(tiny, ids, {layer: [edit]})
        assert torch.equal(patched, logits)


@pytest.mark.parametrize("layer", [0, 2, 3])
def test_full_patch_gives_the_source_downstream(tiny_on_device, layer):
    tiny = tiny_on_device
    tgt = _ids(tiny)
    src = tgt.clone()
    src[0, 3:9] = torch.arange(40, 46, device=tiny.device)  # equal length, other tokens
    src_logits, src_states = _run(tiny, src)
    every = tuple(range(tgt.shape[1]))
    patched, patched_states = _run(tiny, tgt, {layer: [RowEdit(0, every, src_states[layer][0])]})
    torch.testing.assert_close(patched, src_logits, rtol=0, atol=1e-5)
    for later in range(layer, tiny.n_layers):
        torch.testing.assert_close(patched_states[later], src_states[later], rtol=0, atol=1e-5)


@settings(max_examples=8)
@given(data=st.data())
def test_patching_after_p_leaves_positions_up_to_p_unchanged(tiny_on_device, data):
    tiny = tiny_on_device
    ids = _ids(tiny)
    n = ids.shape[1]
    logits, states = _run(tiny, ids)
    p = data.draw(st.integers(0, n - 2))
    layer = data.draw(st.integers(0, tiny.n_layers - 1))
    after = tuple(range(p + 1, n))
    noise = gaussian_noise(len(after), states[layer].shape[-1], 5.0, seed=p)
    patched, _ = _run(tiny, ids, {layer: [RowEdit(0, after, noise, "add")]})
    assert torch.equal(patched[0, : p + 1], logits[0, : p + 1])
    assert not torch.allclose(patched[0, p + 1 :], logits[0, p + 1 :])


class _Block(torch.nn.Module):
    def __init__(self, width, as_tuple):
        super().__init__()
        self.lin, self.as_tuple = torch.nn.Linear(width, width), as_tuple

    def forward(self, h):
        out = h + torch.tanh(self.lin(h))
        return (out, None) if self.as_tuple else out


class _Toy(torch.nn.Module):
    """A decoder-shaped toy whose blocks return a tuple (older transformers) or a tensor."""

    def __init__(self, as_tuple, width=8, n=3):
        super().__init__()
        torch.manual_seed(0)
        self.config = types.SimpleNamespace(model_type="llama")  # blocks at model.layers
        self.model = torch.nn.Module()
        self.model.layers = torch.nn.ModuleList(_Block(width, as_tuple) for _ in range(n))

    def forward(self, h):
        for block in self.model.layers:
            out = block(h)
            h = out[0] if isinstance(out, tuple) else out
        return h


def test_tuple_and_tensor_blocks_give_identical_results():
    x = torch.randn(2, 5, 8)
    edit = {
        1: [RowEdit(1, (0, 3), torch.ones(2, 8))],
        2: [RowEdit(0, (4,), torch.ones(1, 8), "add")],
    }
    results = []
    for as_tuple in (True, False):
        toy = _Toy(as_tuple)
        with capture_residual(toy) as states, edit_residual(toy, edit):
            out = toy(x)
        results.append((out, states))
    (a, sa), (b, sb) = results
    assert torch.equal(a, b)
    assert all(torch.equal(sa[k], sb[k]) for k in sa)


def test_hooks_removed_on_exit_and_on_error(tiny):
    blocks = decoder_layers(tiny.model)
    ids = _ids(tiny)
    clean, _ = _run(tiny, ids)
    with pytest.raises(RuntimeError, match="boom"), \
            edit_residual(tiny.model, {1: [RowEdit(0, (1,), torch.ones(1, 32))]}):  # fmt: skip
        raise RuntimeError("boom")
    assert all(not b._forward_hooks for b in blocks)
    with capture_residual(tiny.model):
        pass
    assert all(not b._forward_hooks for b in blocks)
    after, _ = _run(tiny, ids)
    assert torch.equal(after, clean)


def test_noise_has_the_requested_std(tiny):
    ids = _ids(tiny)
    _, states = _run(tiny, ids)
    positions = tuple(range(ids.shape[1]))
    noise = gaussian_noise(len(positions), 32, sigma=3.0, seed=7)
    _, noised = _run(tiny, ids, {1: [RowEdit(0, positions, noise, "add")]})
    injected = noised[1][0] - states[1][0]
    assert abs(injected.std().item() - 3.0) < 0.25
    assert torch.equal(gaussian_noise(4, 32, 3.0, seed=7), gaussian_noise(4, 32, 3.0, seed=7))


def test_bad_input_gives_clear_errors(tiny):
    ids = _ids(tiny)
    n = ids.shape[1]
    with pytest.raises(InterventionError, match=r"out of range.*valid: 0\.\.3"), \
            edit_residual(tiny.model, {4: [RowEdit(0, (0,), torch.zeros(1, 32))]}):  # fmt: skip
        pass
    with pytest.raises(InterventionError, match="outside the prompt"):
        _run(tiny, ids, {0: [RowEdit(0, (n + 3,), torch.zeros(1, 32))]})
    with pytest.raises(InterventionError, match="width 16.*width 32"):
        _run(tiny, ids, {0: [RowEdit(0, (1,), torch.zeros(1, 16))]})
    with pytest.raises(InterventionError, match="shape"):
        RowEdit(0, (1, 2), torch.zeros(1, 32))
    with pytest.raises(InterventionError, match="non-finite"):
        _run(tiny, ids, {0: [RowEdit(0, (1,), torch.full((1, 32), float("inf")))]})
