"""Train a model organism: a tiny Llama decoder that learns the suite's own ICL tasks from
demonstrations, on the suite's own prompts (the config and batches: `training_data`).

Mechanisms (`MECHANISMS`):
- ``distributed``: next-token loss on every demo answer after the first and on the query's
  answer (then its newline), a minority of the demos answering as another task in half of the
  prompts (the task is the demos' majority, so no single demo decides it), and a penalty on
  the attention the positions after the last demo pay to the demos in the layers before
  `read_layer`: the query reads the task from all demos together, in the middle of the depth.
- ``localized``: the same loss, with the penalty on the attention that any position after the
  last demo pays to any earlier position (BOS included) except the last separator token
  (`PLANTED_SLOT`), at every layer, and to the slot too before `query_layer`; and on the
  attention the slot pays to the demos from `read_layer` on. The slot reads the task from the
  demos in the first `read_layer` layers and the query reads it from the slot alone, from
  `query_layer` on: a patch of the slot at layers `read_layer - 1` to `query_layer - 1`
  carries the source's task and nothing in the target overwrites it.

Deterministic for a given `TrainingConfig` on one machine (fixed seeds and thread count); float
results may differ in the last bits across CPUs, so the shipped folders' SHA-256 identifies them.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, replace

import torch

from icl_core.errors import InvalidChoiceError, UnknownNameError
from icl_core.interventions import RowEdit, capture_residual, edit_residual
from icl_core.organisms.training_data import (
    MECHANISMS,
    InterchangeBatch,
    TrainingConfig,
    make_batch,
    make_interchange_batch,
)


def _interchange_loss(model, b: InterchangeBatch) -> torch.Tensor:
    """Run the sources, patch their states into the targets as `b.edits` say, score the
    targets' labels."""
    with torch.no_grad(), capture_residual(model, sorted({e[0] for e in b.edits})) as states:
        model.model(input_ids=b.source, attention_mask=b.source_mask)
    edits: dict[int, list[RowEdit]] = {}
    for r, (layer, src_pos, tgt_pos) in enumerate(b.edits):
        if tgt_pos:
            edits.setdefault(layer, []).append(RowEdit(r, tgt_pos, states[layer][r, list(src_pos)]))
    with edit_residual(model, edits):
        out = model.model(input_ids=b.target, attention_mask=b.target_mask)
    return _answer_loss(model, out.last_hidden_state, b.labels)


def build_model(cfg: TrainingConfig, tokenizer):
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=cfg.hidden, intermediate_size=cfg.intermediate,
        num_hidden_layers=cfg.layers, num_attention_heads=cfg.heads,
        num_key_value_heads=cfg.heads, max_position_embeddings=512, tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id, attn_implementation="eager",
    )  # fmt: skip
    return LlamaForCausalLM(config)


def _answer_loss(model, hidden: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Next-token cross-entropy on the labelled positions only (the LM head runs on those rows
    alone: most of a prompt carries no loss)."""
    targets = labels[:, 1:]
    keep = targets != -100
    logits = model.lm_head(hidden[:, :-1][keep])
    return torch.nn.functional.cross_entropy(logits, targets[keep])


def _attention_penalty(attentions, forbidden: torch.Tensor) -> torch.Tensor:
    """Mean over heads and penalised (row, layer) pairs of the attention mass on forbidden
    columns (`forbidden` [B, layers, T, T])."""
    penalised = forbidden.sum(-1) > 0  # [B, layers, T]
    rows = penalised.sum().clamp(min=1)
    layers = penalised.any(-1).any(0).nonzero().flatten().tolist()
    mass = sum((attentions[i] * forbidden[:, i, None]).sum() for i in layers)
    return mass / (rows * attentions[0].shape[1])


def _ema(previous: float | None, value: float) -> float:
    return value if previous is None else 0.95 * previous + 0.05 * value


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


@dataclass
class TrainingState:
    """A model mid-training with its optimiser and data generator; `figures` so far."""

    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    rng: random.Random
    figures: dict


def shared_config(cfg: TrainingConfig) -> TrainingConfig:
    """The config of `cfg`'s shared phase: plain loss for `cfg.shared_steps` steps (organisms
    whose shared configs are equal share that phase bit for bit)."""
    return replace(cfg, mechanism="distributed", attention_penalty=0.0, read_layer=0,
                   query_layer=0, interchange_share=0.0,
                   steps=cfg.shared_steps, shared_steps=0)  # fmt: skip


def _check(cfg: TrainingConfig) -> None:
    if cfg.mechanism not in MECHANISMS:
        raise UnknownNameError("organism mechanism", cfg.mechanism, MECHANISMS)
    if cfg.mechanism == "localized" and not 1 <= cfg.read_layer <= cfg.query_layer < cfg.layers:
        raise InvalidChoiceError(
            f"a localized organism needs 1 <= read_layer <= query_layer < layers ({cfg.layers}),"
            f" got read_layer={cfg.read_layer}, query_layer={cfg.query_layer}"
        )


def _run_phase(state: TrainingState, cfg: TrainingConfig, tokenizer, schedule, progress,
               label: str) -> None:  # fmt: skip
    model, opt = state.model, state.optimizer
    for group in opt.param_groups:
        group["lr"] = cfg.lr
    sched = torch.optim.lr_scheduler.LambdaLR(opt, schedule)
    start = time.perf_counter()
    loss_ema = penalty_ema = interchange_ema = None
    for step in range(cfg.steps):
        interchange = cfg.interchange_share and state.rng.random() < cfg.interchange_share
        if interchange:
            loss = _interchange_loss(model, make_interchange_batch(tokenizer, cfg, state.rng))
        else:
            b = make_batch(tokenizer, cfg, state.rng)
            out = model.model(input_ids=b.ids, attention_mask=b.mask,
                              output_attentions=bool(cfg.attention_penalty))  # fmt: skip
            answer_loss = _answer_loss(model, out.last_hidden_state, b.labels)
            loss = answer_loss
            penalty = torch.tensor(0.0)
            if cfg.attention_penalty:
                penalty = _attention_penalty(out.attentions, b.forbidden)
                loss = loss + cfg.attention_penalty * penalty
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if interchange:
            interchange_ema = _ema(interchange_ema, loss.item())
        else:
            loss_ema = _ema(loss_ema, answer_loss.item())
            penalty_ema = _ema(penalty_ema, penalty.item())
        if step % 100 == 0 or step == cfg.steps - 1:
            progress(f"{label} step {step}: loss {_fmt(loss_ema)} attention penalty "
                     f"{_fmt(penalty_ema)} interchange loss {_fmt(interchange_ema)} "
                     f"({time.perf_counter() - start:.0f} s)")  # fmt: skip
    state.figures[label] = {"steps": cfg.steps, "final_loss": round(loss_ema, 4),
                            "final_attention_penalty": round(penalty_ema, 4),
                            "final_interchange_loss": interchange_ema and round(interchange_ema, 4),
                            "seconds": round(time.perf_counter() - start, 1)}  # fmt: skip


def train_shared(cfg: TrainingConfig, tokenizer, progress=print) -> TrainingState:
    """The shared phase of `cfg` from its seed: warm-up, then a constant learning rate."""
    shared = shared_config(cfg)
    torch.manual_seed(shared.seed)
    model = build_model(shared, tokenizer).train()
    opt = torch.optim.AdamW(model.parameters(), lr=shared.lr, weight_decay=0.01)
    state = TrainingState(model, opt, random.Random(shared.seed), {})
    if shared.steps:
        _run_phase(state, shared, tokenizer, lambda s: min(1.0, (s + 1) / shared.warmup),
                   progress, "shared")  # fmt: skip
    return state


def train(cfg: TrainingConfig, tokenizer, progress=print,
          shared: TrainingState | None = None) -> tuple[torch.nn.Module, dict]:  # fmt: skip
    """Train an organism: the shared phase (or `shared`, its result, which is consumed), then
    `cfg.steps` with the mechanism's loss and a learning rate decaying linearly to 5%. Returns
    the model (eval mode) and its training figures per phase."""
    _check(cfg)
    state = shared if shared is not None else train_shared(cfg, tokenizer, progress)
    warm = 1 if cfg.shared_steps else cfg.warmup
    _run_phase(state, cfg, tokenizer,
               lambda s: min(1.0, (s + 1) / warm) * max(0.05, 1 - s / cfg.steps),
               progress, cfg.mechanism)  # fmt: skip
    return state.model.eval(), state.figures
