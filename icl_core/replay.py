"""A prompt's clean prefill (every block's output and the KV cache) and its replay: blocks
below a patch's lowest edited layer return their clean outputs and write the clean keys/values
into the cache instead of computing (a block's output and K/V depend only on the blocks below
it; causal, so the prefix's states do not depend on later positions)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import torch

from icl_core import compat
from icl_core.context_window import check_context
from icl_core.errors import InterventionError
from icl_core.interventions import capture_residual
from icl_core.models.architectures import architecture_of
from icl_core.models.loading import decoder_layers


@dataclass
class CleanRun:
    """The unpatched prefill of a prompt: block outputs [T, hidden] per layer, the KV cache and
    the logits at the final position ([1, vocab] float32)."""

    states: dict[int, torch.Tensor]
    cache: object
    n_tokens: int
    last_logits: torch.Tensor


@torch.inference_mode()
def clean_prefill(model: torch.nn.Module, input_ids: Sequence[int]) -> CleanRun:
    """One unpatched forward of the prompt, keeping every block's output and the KV cache.
    PromptTooLongError beyond the context (`check_context`)."""
    check_context(model, len(input_ids))
    device = next(model.parameters()).device
    ids = torch.tensor([list(input_ids)], dtype=torch.long, device=device)
    with capture_residual(model) as states:
        out, cache = compat.forward(model, ids, None, logits_to_keep=1)
    return CleanRun({k: v[0] for k, v in states.items()}, cache, len(input_ids),
                    out.logits[:, -1].float())  # fmt: skip


def _cached_kv(cache, layer: int) -> tuple[torch.Tensor, torch.Tensor] | None:
    layers = getattr(cache, "layers", None)
    if layers is None or layer >= len(layers):
        return None
    return getattr(layers[layer], "keys", None), getattr(layers[layer], "values", None)


def replayable(clean: CleanRun, upto: int) -> bool:
    """Every block 0..upto must hold the full prompt's K/V (not a truncated sliding window)."""
    for layer in range(upto + 1):
        kv = _cached_kv(clean.cache, layer)
        if kv is None or kv[0] is None or kv[0].shape[-2] != clean.n_tokens:
            return False
    return True


def _block_cache(args: tuple, kwargs: dict):
    """The KV cache a decoder block was called with (its name and position vary by
    architecture: cache, past_key_values, layer_past; keyword or positional)."""
    from transformers.cache_utils import Cache

    for value in (*kwargs.values(), *args):
        if isinstance(value, Cache):
            return value
    raise InterventionError("a decoder block was called without a KV cache to replay into")


@contextmanager
def replay_blocks(model, clean: CleanRun, upto: int, p0: int, rows: int) -> Iterator[None]:
    """Blocks 0..upto return the clean outputs for positions p0.. and append the clean K/V to
    the cache instead of computing. Forward hooks (edits) still run on their outputs."""
    blocks = decoder_layers(model)
    as_tuple = architecture_of(model.config.model_type).tuple_output
    saved = []
    try:
        for layer in range(upto + 1):
            keys, values = _cached_kv(clean.cache, layer)
            out = clean.states[layer][p0:].expand(rows, -1, -1)
            k, v = (t[:, :, p0:].expand(rows, -1, -1, -1) for t in (keys, values))

            def replay(hidden_states, *args, _out=out, _k=k, _v=v, _layer=layer, **kwargs):
                _block_cache(args, kwargs).update(_k, _v, _layer)
                return (_out, None) if as_tuple else _out

            saved.append((blocks[layer], blocks[layer].__dict__.get("forward")))
            blocks[layer].forward = replay
        yield
    finally:
        for block, original in saved:
            if original is None:
                del block.forward
            else:
                block.forward = original
