"""Batched patched prefill + greedy decoding from the patched KV cache.

`generate` runs several variants of ONE prompt (each variant = a set of residual edits, possibly
at different layers; no edits = the clean run) and returns, per variant, the greedy continuation
and the logits at the final prompt position, plus optionally the teacher-forced log-probability
of given continuations. Work that the edits cannot change is reused:
- the KV cache of the prefix before the first edited position (computed once, clean: a causal
  model's states there do not depend on later positions);
- with a `CleanRun` of the prompt, the blocks below the lowest edited layer are not computed:
  they replay the clean outputs and write the clean keys/values into the cache
  (`icl_core.replay`); an unedited variant is the CleanRun itself (its cache and final logits);
- variants are batched (same prompt, so no padding: positions and rotary embeddings are exact).
`reuse_prefix=False, batch_size=1` without a CleanRun is the naive path (one full forward per
variant); tests prove the paths agree.

`decode="unmatched"` skips greedy decoding of the rows whose greedy output the teacher-forced
continuations already prove (see `icl_core.forced_scoring`); only the other rows are decoded. The
results are those of `decode="all"`: the same tokens, hence text, and the same numbers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass

import torch

from icl_core import compat
from icl_core.context_window import check_context
from icl_core.errors import InterventionError, InvalidChoiceError
from icl_core.forced_scoring import is_stop, score_continuations
from icl_core.interventions import RowEdit, check_layers, edit_residual
from icl_core.models.loading import decoder_layers
from icl_core.replay import CleanRun, replay_blocks, replayable
from icl_core.tasks.task import first_line

DECODE_CHOICES = ("all", "unmatched")


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


def _lowest_layer(variant: Sequence[PromptEdit], n_layers: int) -> int:
    return min((e.layer for e in variant), default=n_layers - 1)


def _first_edit(variant: Sequence[PromptEdit], n: int) -> int:
    return min((min(e.positions) for e in variant if e.positions), default=n - 1)


def _prefix_cache(model, ids: torch.Tensor, p0: int):
    if p0 == 0:
        from transformers import DynamicCache

        return DynamicCache(config=model.config)
    return compat.forward(model, ids[:, :p0], logits_to_keep=1)[1]


def _clean_rows(clean: CleanRun, rows: int) -> tuple[object, torch.Tensor]:
    """`rows` unedited rows of the prompt, prefilled: the CleanRun's own KV cache (forked,
    repeated per row) and final logits [rows, vocab], with no forward (a replay of every block
    would give the same logits and a cache whose K/V only round differently)."""
    cache = compat.fork_cache(clean.cache)
    if rows > 1:
        cache.batch_repeat_interleave(rows)
    return cache, clean.last_logits.expand(rows, -1)


def _row_edits(chunk: Sequence[Sequence[PromptEdit]], p0: int) -> dict[int, list[RowEdit]]:
    by_layer: dict[int, list[RowEdit]] = defaultdict(list)
    for row, variant in enumerate(chunk):
        for e in variant:
            rel = tuple(p - p0 for p in e.positions)
            by_layer[e.layer].append(RowEdit(row, rel, e.values, e.kind))
    return dict(by_layer)


def _prefill_chunks(variants, n: int, n_layers: int, batch_size: int) -> list[list[int]]:
    """Variant indices in prefill chunks: sorted by (first edited position, lowest layer), so a
    chunk shares a long clean prefix and replays the most blocks."""
    order = sorted(
        range(len(variants)),
        key=lambda i: (_first_edit(variants[i], n), _lowest_layer(variants[i], n_layers)),
    )
    chunks: list[list[int]] = []
    for i in order:
        if (
            chunks
            and len(chunks[-1]) < batch_size
            and (_first_edit(variants[chunks[-1][0]], n) == _first_edit(variants[i], n))
        ):
            chunks[-1].append(i)
        else:
            chunks.append([i])
    return chunks


def _decode(model, tokenizer, cache, logits, max_new_tokens: int, memo) -> list[tuple[int, ...]]:
    """Greedy decoding of every row; a row leaves the batch at its first stop token."""
    rows = logits.shape[0]
    out: list[list[int]] = [[] for _ in range(rows)]
    alive = list(range(rows))
    for step in range(max_new_tokens):
        nxt = logits.argmax(-1)
        keep = []
        for j, r in enumerate(alive):
            t = int(nxt[j])
            out[r].append(t)
            if not is_stop(tokenizer, t, memo):
                keep.append(j)
        if not keep or step == max_new_tokens - 1:
            break
        if len(keep) < len(alive):
            idx = torch.tensor(keep, device=logits.device)
            cache.batch_select_indices(idx)
            nxt = nxt[idx]
            alive = [alive[j] for j in keep]
        out_step, cache = compat.forward(model, nxt[:, None], cache)
        logits = out_step.logits[:, -1]
    return [tuple(t) for t in out]


@torch.inference_mode()
def generate(
    model: torch.nn.Module,
    tokenizer,
    input_ids: Sequence[int],
    variants: Sequence[Sequence[PromptEdit]],
    max_new_tokens: int = 8,
    continuations: Sequence[Sequence[int]] = (),
    batch_size: int = 8,
    reuse_prefix: bool = True,
    clean: CleanRun | None = None,
    decode_batch: int = 64,
    decode: str = "all",
    scored: int | None = None,
) -> list[Generation]:
    """Greedy-decode each variant of the prompt `input_ids` (see module docstring).
    `batch_size`: rows per patched prefill; `decode_batch`: rows decoded together (prefilled
    caches of one prompt have equal lengths and are concatenated). `clean`: the prompt's
    CleanRun, enabling replay of the blocks below the lowest edited layer. `decode`: "all"
    decodes every row; "unmatched" only the rows whose output the continuations do not prove
    (same results). `scored` (with "unmatched"): only the first `scored` continuations need a
    log-prob on every row; a later one is forced only on rows no earlier one proved (its
    `continuation_logprobs` entry is nan on the others)."""
    if decode not in DECODE_CHOICES:
        raise InvalidChoiceError(
            f"unknown decode mode {decode!r}; valid modes: {', '.join(DECODE_CHOICES)}"
        )
    n = len(input_ids)
    if max_new_tokens < 1:
        raise InterventionError(f"max_new_tokens must be >= 1, got {max_new_tokens}")
    check_context(model, n + max_new_tokens)
    check_layers(model, sorted({e.layer for v in variants for e in v}))
    for v in variants:
        for e in v:
            if any(not 0 <= p < n for p in e.positions):
                raise InterventionError(
                    f"layer {e.layer}: position(s) {list(e.positions)} outside the prompt of "
                    f"{n} tokens"
                )
    n_layers = len(decoder_layers(model))
    if clean is not None and clean.n_tokens != n:
        raise InterventionError(f"CleanRun is for {clean.n_tokens} tokens, the prompt has {n}")
    device = next(model.parameters()).device
    ids = torch.tensor([list(input_ids)], dtype=torch.long, device=device)
    results: list[Generation | None] = [None] * len(variants)
    prefixes: dict[int, object] = {}
    memo: dict[int, bool] = {}
    pending: list[tuple[list[int], object, torch.Tensor]] = []

    def flush() -> None:
        idx = [i for rows, _, _ in pending for i in rows]
        cache = compat.concat_caches([c for _, c, _ in pending])
        last = torch.cat([lg for _, _, lg in pending])
        pending.clear()
        prove_within = max_new_tokens if decode == "unmatched" else None
        scores, tokens = score_continuations(
            model, tokenizer, cache, last, continuations, prove_within, memo, scored
        )
        todo = [r for r, toks in enumerate(tokens) if toks is None]
        if todo:
            if len(todo) < len(idx):
                cache.batch_select_indices(torch.tensor(todo, device=last.device))
            decoded = _decode(model, tokenizer, cache, last[todo], max_new_tokens, memo)
            for r, toks in zip(todo, decoded, strict=True):
                tokens[r] = toks
        for r, i in enumerate(idx):
            text = tokenizer.decode(tokens[r], skip_special_tokens=True)
            results[i] = Generation(first_line(text), text, tokens[r], last[r].cpu(),
                                    tuple(scores[r]))  # fmt: skip

    for idx in _prefill_chunks(variants, n, n_layers, batch_size):
        chunk = [variants[i] for i in idx]
        if (
            clean is not None
            and reuse_prefix
            and not any(chunk)
            and replayable(clean, n_layers - 1)
        ):
            pending.append((idx, *_clean_rows(clean, len(chunk))))
            continue
        p0 = _first_edit(chunk[0], n) if reuse_prefix else 0
        if p0 not in prefixes:
            prefixes[p0] = _prefix_cache(model, ids, p0)
        cache = compat.fork_cache(prefixes[p0])
        rows = len(chunk)
        if rows > 1 and p0 > 0:
            cache.batch_repeat_interleave(rows)
        upto = min(_lowest_layer(v, n_layers) for v in chunk)
        replay = (
            replay_blocks(model, clean, upto, p0, rows)
            if clean is not None and replayable(clean, upto)
            else nullcontext()
        )
        with replay, edit_residual(model, _row_edits(chunk, p0)):
            out, cache = compat.forward(
                model, ids[:, p0:].expand(rows, -1), cache, logits_to_keep=1
            )
        pending.append((idx, cache, out.logits[:, -1].float()))
        if sum(len(r) for r, _, _ in pending) >= decode_batch:
            flush()
    if pending:
        flush()
    return results  # type: ignore[return-value]
