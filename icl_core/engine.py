"""Batched patched prefill + greedy decoding from the patched KV cache.

`generate` runs several variants of ONE prompt (each variant = a set of residual edits, possibly
at different layers; no edits = the clean run) and returns, per variant, the greedy continuation
and the logits at the final prompt position, plus optionally the teacher-forced log-probability
of given continuations. Work that the edits cannot change is reused:
- the KV cache of the prefix before the first edited position (computed once, clean: a causal
  model's states there do not depend on later positions);
- with a `CleanRun` of the prompt, the blocks below the lowest edited layer are not computed:
  they replay the clean outputs and write the clean keys/values into the cache (a block's
  output and K/V depend only on the blocks below it);
- variants are batched (same prompt, so no padding: positions and rotary embeddings are exact).
`reuse_prefix=False, batch_size=1` without a CleanRun is the naive path (one full forward per
variant); tests prove the paths agree.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass

import torch

from icl_core import compat
from icl_core.errors import InterventionError
from icl_core.interventions import RowEdit, capture_residual, check_layers, edit_residual
from icl_core.models.loading import decoder_layers


@dataclass(frozen=True)
class PromptEdit:
    """Edit the output of block `layer` at absolute prompt `positions` (see RowEdit)."""

    layer: int
    positions: tuple[int, ...]
    values: torch.Tensor
    kind: str = "replace"


@dataclass(frozen=True)
class Generation:
    """One variant's result. `answer` = first line of the continuation, stripped.
    `last_logits` [vocab] float32 at the final prompt position; `continuation_logprobs[i]` =
    teacher-forced log P(continuations[i] | patched prompt), if continuations were given."""

    answer: str
    text: str
    token_ids: tuple[int, ...]
    last_logits: torch.Tensor
    continuation_logprobs: tuple[float, ...] = ()


@dataclass
class CleanRun:
    """The unpatched prefill of a prompt: block outputs [T, hidden] per layer and the KV cache."""

    states: dict[int, torch.Tensor]
    cache: object
    n_tokens: int


@torch.inference_mode()
def clean_prefill(model: torch.nn.Module, input_ids: Sequence[int]) -> CleanRun:
    """One unpatched forward of the prompt, keeping every block's output and the KV cache."""
    device = next(model.parameters()).device
    ids = torch.tensor([list(input_ids)], dtype=torch.long, device=device)
    with capture_residual(model) as states:
        _, cache = compat.forward(model, ids, None, logits_to_keep=1)
    return CleanRun({k: v[0] for k, v in states.items()}, cache, len(input_ids))


def _cached_kv(cache, layer: int) -> tuple[torch.Tensor, torch.Tensor] | None:
    layers = getattr(cache, "layers", None)
    if layers is None or layer >= len(layers):
        return None
    return getattr(layers[layer], "keys", None), getattr(layers[layer], "values", None)


def _replayable(clean: CleanRun, upto: int) -> bool:
    """Every block 0..upto must hold the full prompt's K/V (not a truncated sliding window)."""
    for layer in range(upto + 1):
        kv = _cached_kv(clean.cache, layer)
        if kv is None or kv[0] is None or kv[0].shape[-2] != clean.n_tokens:
            return False
    return True


@contextmanager
def _replay_blocks(model, clean: CleanRun, upto: int, p0: int, rows: int) -> Iterator[None]:
    """Blocks 0..upto return the clean outputs for positions p0.. and append the clean K/V to
    the cache instead of computing. Forward hooks (edits) still run on their outputs."""
    blocks = decoder_layers(model)
    saved = []
    try:
        for layer in range(upto + 1):
            keys, values = _cached_kv(clean.cache, layer)
            out = clean.states[layer][p0:].expand(rows, -1, -1)
            k, v = (t[:, :, p0:].expand(rows, -1, -1, -1) for t in (keys, values))

            def replay(hidden_states, *args, _out=out, _k=k, _v=v, _layer=layer, **kwargs):
                cache = kwargs.get("cache", kwargs.get("past_key_values"))
                cache.update(_k, _v, _layer)
                return _out

            saved.append((blocks[layer], blocks[layer].__dict__.get("forward")))
            blocks[layer].forward = replay
        yield
    finally:
        for block, original in saved:
            if original is None:
                del block.forward
            else:
                block.forward = original


def _lowest_layer(variant: Sequence[PromptEdit], n_layers: int) -> int:
    return min((e.layer for e in variant), default=n_layers - 1)


def _is_stop(tokenizer, token_id: int, memo: dict[int, bool]) -> bool:
    if token_id not in memo:
        memo[token_id] = token_id == tokenizer.eos_token_id or "\n" in tokenizer.decode([token_id])
    return memo[token_id]


def _until_stop(tokens: list[int], tokenizer, memo: dict[int, bool]) -> tuple[int, ...]:
    """The tokens up to and including the first stop token (batch-mates may decode on)."""
    for j, t in enumerate(tokens):
        if _is_stop(tokenizer, t, memo):
            return tuple(tokens[: j + 1])
    return tuple(tokens)


def _first_edit(variant: Sequence[PromptEdit], n: int) -> int:
    return min((min(e.positions) for e in variant if e.positions), default=n - 1)


def _prefix_cache(model, ids: torch.Tensor, p0: int):
    if p0 == 0:
        from transformers import DynamicCache

        return DynamicCache(config=model.config)
    return compat.forward(model, ids[:, :p0], logits_to_keep=1)[1]


def _row_edits(chunk: Sequence[Sequence[PromptEdit]], p0: int) -> dict[int, list[RowEdit]]:
    by_layer: dict[int, list[RowEdit]] = defaultdict(list)
    for row, variant in enumerate(chunk):
        for e in variant:
            rel = tuple(p - p0 for p in e.positions)
            by_layer[e.layer].append(RowEdit(row, rel, e.values, e.kind))
    return dict(by_layer)


def _score_continuations(model, cache, last_logits, continuations) -> torch.Tensor:
    """[rows, n_cont] summed log-probs of each continuation after each row's patched prompt.
    Continuations are right-padded: causal attention keeps real tokens exact."""
    rows, n_cont = last_logits.shape[0], len(continuations)
    width = max(len(c) for c in continuations)
    tokens = torch.zeros(n_cont, width, dtype=torch.long, device=last_logits.device)
    for i, c in enumerate(continuations):
        tokens[i, : len(c)] = torch.tensor(c)
    first = torch.log_softmax(last_logits.float(), -1)[:, tokens[:, 0]]  # [rows, n_cont]
    total = first.clone()
    if width > 1:
        cache = copy.deepcopy(cache)
        cache.batch_repeat_interleave(n_cont)
        feed = tokens[:, :-1].repeat(rows, 1)
        logp = torch.log_softmax(compat.forward(model, feed, cache)[0].logits.float(), -1)
        nxt = tokens[:, 1:].repeat(rows, 1)
        picked = logp.gather(-1, nxt[..., None])[..., 0]  # [rows*n_cont, width-1]
        lengths = torch.tensor([len(c) for c in continuations], device=picked.device)
        mask = torch.arange(1, width, device=picked.device)[None, :] < lengths.repeat(rows)[:, None]
        total += (picked * mask).sum(-1).view(rows, n_cont)
    return total


@torch.inference_mode()
def generate(
    model: torch.nn.Module,
    tokenizer,
    input_ids: Sequence[int],
    variants: Sequence[Sequence[PromptEdit]],
    max_new_tokens: int = 8,
    continuations: Sequence[Sequence[int]] = (),
    batch_size: int = 32,
    reuse_prefix: bool = True,
    clean: CleanRun | None = None,
) -> list[Generation]:
    """Greedy-decode each variant of the prompt `input_ids` (see module docstring). `clean`:
    the prompt's CleanRun, enabling replay of the blocks below the lowest edited layer."""
    n = len(input_ids)
    if max_new_tokens < 1:
        raise InterventionError(f"max_new_tokens must be >= 1, got {max_new_tokens}")
    check_layers(model, sorted({e.layer for v in variants for e in v}))
    for v in variants:
        for e in v:
            if any(not 0 <= p < n for p in e.positions):
                raise InterventionError(
                    f"layer {e.layer}: position(s) {list(e.positions)} outside the prompt of "
                    f"{n} tokens"
                )
    device = next(model.parameters()).device
    ids = torch.tensor([list(input_ids)], dtype=torch.long, device=device)
    n_layers = len(decoder_layers(model))
    if clean is not None and clean.n_tokens != n:
        raise InterventionError(f"CleanRun is for {clean.n_tokens} tokens, the prompt has {n}")
    order = sorted(
        range(len(variants)),
        key=lambda i: (_lowest_layer(variants[i], n_layers), _first_edit(variants[i], n)),
    )
    results: list[Generation | None] = [None] * len(variants)
    prefixes: dict[int, object] = {}
    stop_memo: dict[int, bool] = {}
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        chunk = [variants[i] for i in idx]
        p0 = min(_first_edit(v, n) for v in chunk) if reuse_prefix else 0
        if p0 not in prefixes:
            prefixes[p0] = _prefix_cache(model, ids, p0)
        cache = copy.deepcopy(prefixes[p0])
        rows = len(chunk)
        if rows > 1 and p0 > 0:
            cache.batch_repeat_interleave(rows)
        upto = min(_lowest_layer(v, n_layers) for v in chunk)
        replay = (
            _replay_blocks(model, clean, upto, p0, rows)
            if clean is not None and _replayable(clean, upto)
            else nullcontext()
        )
        with replay, edit_residual(model, _row_edits(chunk, p0)):
            out, cache = compat.forward(
                model, ids[:, p0:].expand(rows, -1), cache, logits_to_keep=1
            )
        last = out.logits[:, -1].float()
        cont_lp = (
            _score_continuations(model, cache, last, continuations).tolist()
            if continuations
            else [[] for _ in range(rows)]
        )
        tokens, done, logits = [], torch.zeros(rows, dtype=torch.bool), last
        for step in range(max_new_tokens):
            nxt = logits.argmax(-1)
            tokens.append(nxt.cpu())
            done |= torch.tensor([_is_stop(tokenizer, int(t), stop_memo) for t in nxt])
            if done.all() or step == max_new_tokens - 1:
                break
            out, cache = compat.forward(model, nxt[:, None], cache)
            logits = out.logits[:, -1]
        gen = torch.stack(tokens, 1)
        for r, i in enumerate(idx):
            toks = _until_stop([int(t) for t in gen[r]], tokenizer, stop_memo)
            text = tokenizer.decode(toks, skip_special_tokens=True)
            results[i] = Generation(text.split("\n")[0].strip(), text, toks, last[r].cpu(),
                                    tuple(cont_lp[r]))  # fmt: skip
    return results  # type: ignore[return-value]
