"""Properties of patching that hold on any causal LM, competent at the tasks or not (issue 15).

Run on a real model by `icl-claims models check --mechanics NAME` and by
`claims/test_model_mechanics.py` for every `--model`: what a CI run on a new model relies on before
any claim is read.

- `self_patch`: patching a prompt's own clean states (every position, at each tested layer)
  changes nothing: the same greedy tokens, final logits equal within tolerance.
- `full_patch`: patching every position at layer L with another prompt's states (same length)
  reproduces that prompt's final logits: downstream blocks read only the residual stream.
- `engine_vs_naive`: the engine (prefix reuse, block replay, batching) equals the naive path
  (one full forward and decode per variant) on sampled conditions.
- `layouts`: every task's prompt lays out (tokenizer offsets) with each role's tokens covering
  exactly that role's characters, and decodes back to its text.
A paper's claims add what they can measure on the model (for cheng2026:
`icl_core.papers.cheng2026.measurability`).
Tolerance on logits: `rtol` x max(1, |logit|), rtol 1e-3 in float32 and 5e-2 in 16-bit dtypes
(measured engine-vs-naive differences on the zoo in float32: below 2e-6 relative).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import torch

from icl_core.engine import PromptEdit, generate
from icl_core.errors import LayoutError
from icl_core.models.loading import LoadedModel
from icl_core.prompts import build_layout, render
from icl_core.replay import clean_prefill
from icl_core.tasks import PAPER_TASKS, sample_example

RTOL = {"float32": 1e-3, "bfloat16": 5e-2, "float16": 5e-2}
MAX_NEW_TOKENS = 4


@dataclass(frozen=True)
class MechanicsCheck:
    """One property on one model: `passed` and what was compared (`detail`)."""

    name: str
    passed: bool
    detail: str


def _prompt_ids(lm: LoadedModel, seed: int = 0) -> list[int]:
    return build_layout(render(sample_example("uppercase", seed=seed)), lm.tokenizer).input_ids


def _layers(lm: LoadedModel) -> list[int]:
    n = lm.info.n_layers
    return sorted({0, n // 2, n - 1})


def _worst_gap(a: torch.Tensor, b: torch.Tensor) -> float:
    """max |a - b| / max(1, max |a|) over the final-position logits."""
    return ((a - b).abs().max() / max(1.0, a.abs().max().item())).item()


def _compare(name: str, lm: LoadedModel, got, want, what: str) -> MechanicsCheck:
    rtol = RTOL.get(lm.info.dtype, 5e-2)
    same_tokens = [g.token_ids for g in got] == [w.token_ids for w in want]
    gap = max(_worst_gap(w.last_logits, g.last_logits) for g, w in zip(got, want, strict=True))
    passed = same_tokens and gap <= rtol
    tokens = "identical tokens" if same_tokens else "DIFFERENT tokens"
    return MechanicsCheck(name, passed, f"{what}: {tokens}, logit gap {gap:.2e} (tol {rtol:g})")


@torch.inference_mode()
def self_patch(lm: LoadedModel) -> MechanicsCheck:
    ids = _prompt_ids(lm)
    clean = clean_prefill(lm.model, ids)
    layers = _layers(lm)
    every = tuple(range(len(ids)))
    variants = [[PromptEdit(L, every, clean.states[L])] for L in layers]
    got = generate(lm.model, lm.tokenizer, ids, variants, MAX_NEW_TOKENS, clean=clean)
    (want,) = generate(lm.model, lm.tokenizer, ids, [[]], MAX_NEW_TOKENS)
    return _compare("self_patch", lm, got, [want] * len(got), f"own states at layers {layers}")


@torch.inference_mode()
def full_patch(lm: LoadedModel) -> MechanicsCheck:
    ids = _prompt_ids(lm)
    rng = random.Random(0)
    source = [ids[0]] + [rng.choice(ids) for _ in ids[1:]]  # same length, other content
    src = clean_prefill(lm.model, source)
    layers = _layers(lm)
    every = tuple(range(len(ids)))
    variants = [[PromptEdit(L, every, src.states[L])] for L in layers]
    got = generate(lm.model, lm.tokenizer, ids, variants, 1)
    (want,) = generate(lm.model, lm.tokenizer, source, [[]], 1)
    return _compare("full_patch", lm, got, [want] * len(got),
                    f"every position at layers {layers} from a shuffled prompt")  # fmt: skip


@torch.inference_mode()
def engine_vs_naive(lm: LoadedModel, n_conditions: int = 12) -> MechanicsCheck:
    ids = _prompt_ids(lm)
    src = clean_prefill(lm.model, _prompt_ids(lm, seed=1)[: len(ids)])
    clean = clean_prefill(lm.model, ids)
    rng = random.Random(0)
    n = min(len(ids), src.n_tokens)
    variants = []
    for _ in range(n_conditions):
        layer = rng.randrange(lm.info.n_layers)
        pos = tuple(sorted(rng.sample(range(n), rng.randint(1, min(8, n)))))
        variants.append([PromptEdit(layer, pos, src.states[layer][list(pos)])])
    fast = generate(lm.model, lm.tokenizer, ids, variants, MAX_NEW_TOKENS, clean=clean)
    naive = generate(lm.model, lm.tokenizer, ids, variants, MAX_NEW_TOKENS, batch_size=1,
                     reuse_prefix=False)  # fmt: skip
    return _compare("engine_vs_naive", lm, fast, naive,
                    f"{n_conditions} random (layer, positions) conditions")  # fmt: skip


def layouts(lm: LoadedModel, seeds: int = 3) -> MechanicsCheck:
    problems, checked = [], 0
    for task in PAPER_TASKS:
        for seed in range(seeds):
            prompt = render(sample_example(task, seed=seed))
            try:
                layout = build_layout(prompt, lm.tokenizer)
            except LayoutError as exc:
                problems.append(f"{task}:{seed} {exc}")
                continue
            checked += 1
            text = lm.tokenizer.decode(layout.input_ids, skip_special_tokens=True)
            if text.strip() != prompt.text.strip():
                problems.append(f"{task}:{seed} decodes to {text[:40]!r}...")
            for chars in prompt.spans:
                tokens = layout.span(chars.role).positions
                covered = "".join(prompt.text[layout.offsets[i][0] : layout.offsets[i][1]]
                                  for i in tokens).strip()  # fmt: skip
                if covered != prompt.text[chars.start : chars.end].strip():
                    problems.append(f"{task}:{seed} role {chars.role} covers {covered!r}")
    detail = f"{checked} prompts of {len(PAPER_TASKS)} tasks laid out"
    if problems:
        detail += f"; {len(problems)} problem(s), first: {problems[0]}"
    return MechanicsCheck("layouts", not problems, detail)


CHECKS = (self_patch, full_patch, engine_vs_naive, layouts)


def run_mechanics(lm: LoadedModel) -> list[MechanicsCheck]:
    """Every check of CHECKS on `lm`, in order."""
    return [check(lm) for check in CHECKS]
