"""Train a model organism: a tiny Llama decoder that learns the suite's own ICL tasks from
demonstrations, on the suite's own prompts (`sample_example`, the `paper` template, `build_layout`).

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
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace

import torch

from icl_core.design import SINGLE_SETS
from icl_core.errors import InvalidChoiceError, UnknownNameError
from icl_core.interventions import RowEdit, capture_residual, edit_residual
from icl_core.prompts.layout import build_layout
from icl_core.prompts.mapping import map_positions
from icl_core.prompts.render import render
from icl_core.tasks import ICLExample, get_task, sample_example, sample_pair

MECHANISMS = ("distributed", "localized")
PLANTED_SLOT = "last_separator"  # the one position the localized organism reads the task from
ORGANISM_TASKS = ("uppercase", "first_letter", "repeat_word", "repeat_comma")


@dataclass(frozen=True)
class TrainingConfig:
    """Model size and optimisation; `k_range`: demos per training prompt (inclusive)."""

    mechanism: str
    seed: int = 0
    shared_steps: int = 600  # plain-loss steps first, shared by organisms with equal configs
    steps: int = 600  # then steps with the mechanism's loss
    batch: int = 32
    lr: float = 3e-3
    warmup: int = 100
    hidden: int = 64
    layers: int = 8
    heads: int = 4
    intermediate: int = 128
    k_range: tuple[int, int] = (3, 7)
    attention_penalty: float = 0.0  # weight of the attention penalty (0: none)
    read_layer: int = 0  # distributed: the query may attend to the demos from this layer on;
    # localized: the slot may attend to the demos before this layer only
    query_layer: int = 0  # localized: the query may attend to the slot from this layer on
    interchange_share: float = 0.0  # share of steps trained on patched pairs (`interchange_plan`)
    noisy_share: float = 0.5  # share of training prompts with a minority of corrupted demos
    max_fillers: int = 16  # newlines after BOS, uniform in [0, max_fillers] per prompt
    tasks: tuple[str, ...] = ORGANISM_TASKS

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Batch:
    """Right-padded rows: ids and labels [B, T] (labels -100 where no loss), attention mask
    [B, T], and `forbidden` [B, layers, T, T] (1 where a row may not attend to a column at a
    layer; zeros without an attention penalty)."""

    ids: torch.Tensor
    labels: torch.Tensor
    mask: torch.Tensor
    forbidden: torch.Tensor


def _corrupt(
    example: ICLExample, rng: random.Random, cfg: TrainingConfig
) -> tuple[ICLExample, set[int]]:
    """With probability `cfg.noisy_share`, a minority of the demos (1 to (k - 1) // 2) answer
    as another trained task would (same inputs): the task is then the demos' majority, so no
    one demo decides it. Returns the example and the corrupted demo indices."""
    k = len(example.demos)
    if k < 3 or rng.random() >= cfg.noisy_share:
        return example, set()
    chosen = set(rng.sample(range(k), rng.randint(1, (k - 1) // 2)))
    demos = list(example.demos)
    for i in chosen:
        other = get_task(rng.choice([t for t in cfg.tasks if t != example.task]))
        demos[i] = (demos[i][0], other.answer(demos[i][0]))
    return ICLExample(example.task, tuple(demos), example.query, example.answer), chosen


def training_row(
    tokenizer, cfg: TrainingConfig, rng: random.Random
) -> tuple[list[int], list[int], int]:
    """(token ids, labels, index of the planted slot) of one prompt followed by its answer and a
    newline (after `cfg.max_fillers`-bounded newlines after BOS, so the prompt's length does not
    give the task away: the answers' token counts differ by task). Labels: every uncorrupted
    demo answer from demo 1 on, with the first separator token after it, and the query's
    answer with its newline."""
    task = rng.choice(cfg.tasks)
    example = sample_example(task, rng.randint(*cfg.k_range), rng.getrandbits(62))
    example, corrupted = _corrupt(example, rng, cfg)
    layout = build_layout(render(example), tokenizer)
    tail = tokenizer(" " + example.answer + "\n", add_special_tokens=False)["input_ids"]
    fill = rng.randint(0, cfg.max_fillers)
    newline = tokenizer.convert_tokens_to_ids("Ċ")
    ids = [layout.input_ids[0]] + [newline] * fill + list(layout.input_ids[1:]) + list(tail)
    labels = [-100] * len(ids)
    for i in set(range(1, len(example.demos))) - corrupted:
        out = layout.span(f"demo{i}.output")
        for p in range(out.start, out.end + 1):  # the answer, then the separator's first token
            labels[p + fill] = ids[p + fill]
    for p in range(len(layout) + fill, len(ids)):
        labels[p] = ids[p]
    return ids, labels, layout.position_set(PLANTED_SLOT)[0] + fill


def make_batch(tokenizer, cfg: TrainingConfig, rng: random.Random) -> Batch:
    rows = [training_row(tokenizer, cfg, rng) for _ in range(cfg.batch)]
    width = max(len(ids) for ids, _, _ in rows)
    pad = tokenizer.pad_token_id
    ids = torch.full((len(rows), width), pad)
    labels = torch.full((len(rows), width), -100)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    forbidden = torch.zeros((len(rows), cfg.layers, width, width))
    for r, (row_ids, row_labels, slot) in enumerate(rows):
        n = len(row_ids)
        ids[r, :n] = torch.tensor(row_ids)
        labels[r, :n] = torch.tensor(row_labels)
        mask[r, :n] = 1
        if cfg.attention_penalty and cfg.mechanism == "localized":
            forbidden[r, :, slot + 1 : n, :slot] = 1.0  # everything before the slot, BOS included
            forbidden[r, : cfg.query_layer, slot + 1 : n, slot] = 1.0  # the slot, early on
            forbidden[r, cfg.read_layer :, slot, 1:slot] = 1.0  # the slot reads no demo late
        elif cfg.attention_penalty:
            forbidden[r, : cfg.read_layer, slot + 1 : n, 1 : slot + 1] = 1.0  # every demo token
    return Batch(ids, labels, mask, forbidden)


@dataclass
class InterchangeBatch:
    """Interchange-intervention training (Geiger et al. 2022, ICML, "Inducing causal structure
    for interpretable neural networks"): source and target prompts of two tasks drawn
    independently (`sample_pair`: shared demo inputs, another query; the tasks are equal in 1
    of len(tasks) rows, so "answer as some other task" is no cue), right-padded [B, T]. Row r's
    target receives the source's states at `edits[r]` = (layer, source positions, target
    positions); `labels` ask for what the planted mechanism says the patched target answers
    (`interchange_plan`), then a newline."""

    source: torch.Tensor
    source_mask: torch.Tensor
    target: torch.Tensor
    target_mask: torch.Tensor
    labels: torch.Tensor
    edits: list[tuple[int, tuple[int, ...], tuple[int, ...]]]


def interchange_plan(cfg: TrainingConfig, rng: random.Random,
                     available: Sequence[str]) -> tuple[str, int, bool]:  # fmt: skip
    """(position set, layer, transfers) of one interchange row. Localized: the planted slot at
    layers `read_layer - 1` to `query_layer - 1` transfers. Distributed: all_demo before
    `read_layer` transfers (half the rows); any single position of C1's sets at any layer does
    not (the other half)."""
    if cfg.mechanism == "localized":
        return PLANTED_SLOT, rng.randrange(cfg.read_layer - 1, cfg.query_layer), True
    if rng.random() < 0.5:
        return "all_demo", rng.randrange(cfg.read_layer), True
    return rng.choice([n for n in SINGLE_SETS if n in available]), rng.randrange(cfg.layers), False


def _pad(rows: list[list[int]], value: int) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), value)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r)
        mask[i, : len(r)] = 1
    return ids, mask


def make_interchange_batch(tokenizer, cfg: TrainingConfig, rng: random.Random) -> InterchangeBatch:
    sources, targets, labels, edits = [], [], [], []
    for _ in range(cfg.batch):
        s, t = rng.choice(cfg.tasks), rng.choice(cfg.tasks)
        pair = sample_pair(s, t, rng.randint(*cfg.k_range), rng.getrandbits(62))
        src = build_layout(render(pair.source), tokenizer)
        tgt = build_layout(render(pair.target), tokenizer)
        position_set, layer, transfers = interchange_plan(cfg, rng, tuple(tgt.position_sets()))
        mapped = map_positions(src, tgt, tgt.position_set(position_set))
        answer = pair.source_answer_for_query if transfers else pair.target.answer
        tail = tokenizer(" " + answer + "\n", add_special_tokens=False)["input_ids"]
        sources.append(list(src.input_ids))
        targets.append(list(tgt.input_ids) + list(tail))
        labels.append([-100] * len(tgt) + list(tail))
        edits.append((layer, mapped.source, mapped.target))
    source, source_mask = _pad(sources, tokenizer.pad_token_id)
    target, target_mask = _pad(targets, tokenizer.pad_token_id)
    label_ids, _ = _pad(labels, -100)
    return InterchangeBatch(source, source_mask, target, target_mask, label_ids, edits)


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
