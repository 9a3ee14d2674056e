"""Teacher-forced continuations: their log-probabilities after each row of a batch of patched
prompts, and the greedy outputs those forced logits prove (issue 17.2: classification without
decoding). A row's greedy output is proven equal to a continuation c iff every token of c, then
a stop token, is the argmax at its step by more than the tie tolerance; `engine.generate`
decodes only the rows no continuation proves, with the same results as decoding them all."""

from __future__ import annotations

import torch

from icl_core import compat

# A teacher-forced argmax is trusted to be the one step-by-step decoding takes only if it beats
# the runner-up logit by more than TIE_RTOL * max(1, |top logit|) (float32; a coarser model
# dtype uses 4 of its eps instead). Measured on smollm2-135m fp32: the two forwards differ by at
# most 5.6e-5 in logits of magnitude up to ~33 (1.7e-6 relative), 60x below the tolerance.
TIE_RTOL = 1e-4


def is_stop(tokenizer, token_id: int, memo: dict[int, bool]) -> bool:
    if token_id not in memo:
        memo[token_id] = token_id == tokenizer.eos_token_id or "\n" in tokenizer.decode([token_id])
    return memo[token_id]


def sure_argmax(logits: torch.Tensor, rtol: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Over the last dim: the argmax, and whether it beats the runner-up by more than
    rtol * max(1, |top logit|)."""
    top = logits.float().topk(2, -1)
    gap = top.values[..., 0] - top.values[..., 1]
    return top.indices[..., 0], gap > rtol * top.values[..., 0].abs().clamp(min=1.0)


def _prove_greedy(
    model,
    tokenizer,
    fork,
    forced: tuple[torch.Tensor, torch.Tensor],
    cont,
    max_new_tokens: int,
    memo,
    rtol: float,
) -> dict[int, tuple[int, ...]]:
    """Row -> greedy output, for the rows whose greedy output is provably `cont` (then a stop
    token, unless cont fills max_new_tokens): cont holds no stop token and each of its tokens,
    then the stop token, is the sure argmax at its step. `forced`: the `sure_argmax`
    [rows, len(cont)] of the forced logits before each token of cont; `fork`: a cache after
    cont[:-1] (consumed)."""
    if len(cont) > max_new_tokens or any(is_stop(tokenizer, t, memo) for t in cont):
        return {}
    top, sure = forced
    want = torch.tensor(cont, device=top.device)
    rows = ((top == want) & sure).all(-1).nonzero()[:, 0]
    if len(cont) == max_new_tokens or not len(rows):
        return {int(r): tuple(cont) for r in rows}
    fork.batch_select_indices(rows)
    out, _ = compat.forward(model, want[-1:].expand(len(rows), 1), fork)
    top, sure = sure_argmax(out.logits[:, -1], rtol)
    found = zip(rows.tolist(), top.tolist(), sure.tolist(), strict=True)
    return {r: (*cont, t) for r, t, ok in found if ok and is_stop(tokenizer, t, memo)}


def score_continuations(
    model, tokenizer, cache, last_logits, continuations, prove_within: int | None, memo,
    scored: int | None = None,
) -> tuple[list[list[float]], list[tuple[int, ...] | None]]:  # fmt: skip
    """[rows][n_cont] summed log-probs of each continuation after each row's patched prompt,
    teacher forced; each continuation runs on a fork of the cache (no copies). With
    `prove_within` (a max_new_tokens), also per row the greedy output that the forced logits
    prove (see _prove_greedy; a continuation's extra step runs only for rows that match it),
    else None. With `prove_within` and `scored`, the continuations after the first `scored`
    only prove: they run on the rows not proven yet, and their log-prob is nan elsewhere."""
    rows = last_logits.shape[0]
    first = torch.log_softmax(last_logits.float(), -1)
    total = torch.full((rows, len(continuations)), float("nan"))
    proven: list[tuple[int, ...] | None] = [None] * rows
    rtol = max(TIE_RTOL, 4 * torch.finfo(next(model.parameters()).dtype).eps)
    prove = prove_within is not None
    sure = sure_argmax(last_logits[:, None], rtol) if prove else None
    everyone = list(range(rows))
    for i, cont in enumerate(continuations):
        sub = everyone
        if prove and scored is not None and i >= scored:
            sub = [r for r in everyone if proven[r] is None]
            if not sub:
                continue
        at = torch.tensor(sub, device=last_logits.device)
        total[sub, i] = first[at, cont[0]].cpu()
        fork = compat.fork_cache(cache)
        if len(sub) < rows:
            fork.batch_select_indices(at)
        forced = tuple(t[at] for t in sure) if prove else None
        if len(cont) > 1:
            feed = torch.tensor([cont[:-1]], device=last_logits.device).expand(len(sub), -1)
            out, fork = compat.forward(model, feed, fork)
            logp = torch.log_softmax(out.logits.float(), -1)
            nxt = torch.tensor(cont[1:], device=logp.device)
            total[sub, i] += logp[:, torch.arange(len(cont) - 1), nxt].sum(-1).cpu()
            if prove:
                later = sure_argmax(out.logits, rtol)
                forced = tuple(torch.cat(pair, 1) for pair in zip(forced, later, strict=True))
        if prove:
            found = _prove_greedy(model, tokenizer, fork, forced, cont, prove_within, memo, rtol)
            for r, toks in found.items():
                proven[sub[r]] = toks
    return total.tolist(), proven
