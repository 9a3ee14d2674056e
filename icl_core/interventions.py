"""Residual-stream interventions at the output of decoder blocks, as context managers.

Layer convention: layer L is `model.model.layers[L]`; its output is the residual stream after
block L. Hooks work whether a block returns a tensor (transformers 5) or a tuple (older
releases/other families) and are always removed on exit, also on error. Interventions act on the
forward passes run inside the `with` block only: the engine runs the prefill inside it and greedy
decoding outside, so decoding continues from the patched KV cache.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import torch

from icl_core.errors import InterventionError
from icl_core.models.architectures import blocks_of

KINDS = ("replace", "add")


@dataclass(frozen=True)
class RowEdit:
    """Edit batch row `row` at sequence `positions` (indices into the tensor the block sees):
    `replace` sets the states to `values` [len(positions), hidden]; `add` adds `values`
    (e.g. Gaussian noise). Mean ablation is `replace` with the mean broadcast."""

    row: int
    positions: tuple[int, ...]
    values: torch.Tensor
    kind: str = "replace"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InterventionError(f"unknown edit kind {self.kind!r}; valid kinds: {KINDS}")
        if self.values.ndim != 2 or self.values.shape[0] != len(self.positions):
            raise InterventionError(
                f"edit values must have shape [{len(self.positions)}, hidden] for "
                f"{len(self.positions)} positions, got {tuple(self.values.shape)}"
            )


def _hidden(output) -> torch.Tensor:
    return output[0] if isinstance(output, tuple) else output


def _with_hidden(output, hidden: torch.Tensor):
    return (hidden, *output[1:]) if isinstance(output, tuple) else hidden


def check_layers(model: torch.nn.Module, layers: Sequence[int]) -> torch.nn.ModuleList:
    blocks = blocks_of(model)
    bad = [L for L in layers if not 0 <= L < len(blocks)]
    if bad:
        raise InterventionError(
            f"layer(s) {bad} out of range: this model has {len(blocks)} decoder layers "
            f"(valid: 0..{len(blocks) - 1})"
        )
    return blocks


def _apply(hidden: torch.Tensor, edits: Sequence[RowEdit], layer: int) -> torch.Tensor:
    batch, seq, width = hidden.shape
    out = hidden.clone()
    for e in edits:
        if not 0 <= e.row < batch:
            raise InterventionError(f"edit row {e.row} outside the batch of {batch}")
        bad = [p for p in e.positions if not 0 <= p < seq]
        if bad:
            raise InterventionError(
                f"layer {layer}: position(s) {bad} outside the prompt of {seq} tokens"
            )
        if e.values.shape[1] != width:
            raise InterventionError(
                f"layer {layer}: edit vectors have width {e.values.shape[1]}, the residual "
                f"stream has width {width}"
            )
        pos = torch.tensor(e.positions, dtype=torch.long, device=out.device)
        vals = e.values.to(device=out.device, dtype=out.dtype)
        out[e.row, pos] = vals if e.kind == "replace" else out[e.row, pos] + vals
        if not torch.isfinite(out[e.row, pos]).all():
            raise InterventionError(
                f"layer {layer}: non-finite activations after the edit (overflow in "
                f"{out.dtype}? try --dtype float32)"
            )
    return out


@contextmanager
def edit_residual(model: torch.nn.Module, edits: Mapping[int, Sequence[RowEdit]]) -> Iterator[None]:
    """Within the block, the output of decoder block L is edited by `edits[L]` on every forward."""
    blocks = check_layers(model, list(edits))
    handles = []
    try:
        for layer, row_edits in edits.items():
            if not row_edits:
                continue

            def hook(module, args, output, row_edits=row_edits, layer=layer):
                return _with_hidden(output, _apply(_hidden(output), row_edits, layer))

            handles.append(blocks[layer].register_forward_hook(hook))
        yield
    finally:
        for h in handles:
            h.remove()


@contextmanager
def capture_residual(
    model: torch.nn.Module, layers: Sequence[int] | None = None
) -> Iterator[dict[int, torch.Tensor]]:
    """Yield a dict filled with layer -> output of block L [batch, seq, hidden] (detached) from
    the FIRST forward inside the block (the prefill; later decode steps are ignored).
    `layers=None`: every layer. Hooks run in registration order: enter `edit_residual` before
    this block to capture the edited stream."""
    blocks = blocks_of(model)
    layers = list(range(len(blocks))) if layers is None else list(layers)
    check_layers(model, layers)
    store: dict[int, torch.Tensor] = {}
    handles = []
    try:
        for layer in layers:

            def hook(module, args, output, layer=layer):
                hidden = _hidden(output).detach()
                if not torch.isfinite(hidden).all():
                    raise InterventionError(
                        f"layer {layer}: non-finite activations (overflow in {hidden.dtype}? "
                        f"try --dtype float32)"
                    )
                store.setdefault(layer, hidden)

            handles.append(blocks[layer].register_forward_hook(hook))
        yield store
    finally:
        for h in handles:
            h.remove()


def gaussian_noise(n: int, width: int, sigma: float, seed: int) -> torch.Tensor:
    """[n, width] i.i.d. N(0, sigma^2) noise from a dedicated seeded generator (float32, CPU)."""
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, width, generator=gen) * sigma
