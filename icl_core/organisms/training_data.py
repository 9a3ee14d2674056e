"""What a model organism is trained on: its `TrainingConfig` (size, optimisation, mechanism)
and the batches of the suite's own prompts (`sample_example`, the `paper` template,
`build_layout`): next-token rows with their attention masks (`make_batch`) and the interchange
pairs of the localized mechanism (`make_interchange_batch`). The mechanisms themselves are
described in `icl_core.organisms.training`."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import torch

from icl_core.prompts.layout import build_layout
from icl_core.prompts.mapping import map_positions
from icl_core.prompts.render import render
from icl_core.tasks import ICLExample, get_task, sample_example, sample_pair

MECHANISMS = ("distributed", "localized")
PLANTED_SLOT = "last_separator"  # the one position the localized organism reads the task from
ORGANISM_TASKS = ("uppercase", "first_letter", "repeat_word", "repeat_comma")
# The single positions the distributed organism is trained not to transfer from: the nine C1
# sweeps (cheng2026's design.SINGLE_SETS when it was trained), frozen with the shipped weights;
# tests/integration/test_organisms.py checks that they are still C1's.
UNPLANTED_SINGLES = ("demo0_output_last", "demo1_output_last", "demo2_output_last",
                     "demo3_output_last", "demo4_output_last", "last_separator", "query_first",
                     "query_input_last", "query_last")  # fmt: skip


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
    `read_layer` transfers (half the rows); any single position of UNPLANTED_SINGLES at any
    layer does not (the other half)."""
    if cfg.mechanism == "localized":
        return PLANTED_SLOT, rng.randrange(cfg.read_layer - 1, cfg.query_layer), True
    if rng.random() < 0.5:
        return "all_demo", rng.randrange(cfg.read_layer), True
    choices = [n for n in UNPLANTED_SINGLES if n in available]
    return rng.choice(choices), rng.randrange(cfg.layers), False


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
