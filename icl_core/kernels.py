"""The kernels every protocol runs, one per experiment kind (issue 14: protocols as strategies).

Patching: a protocol prepares a trial (its prompts, clean runs, positions, source states and scorer:
the rigorous protocol in `icl_core.trials`, a paper's own protocol in its folder, e.g.
`icl_core.papers.cheng2026.protocol.patching`) as a `PatchTrial`; `patch_conditions` patches it
under every condition in one batched `engine.generate` call and scores each row the protocol's way;
`condition_records` and `excluded_records` turn the results into `TrialRecord`s. What differs
between protocols lives in the trial object only.
Causal tracing: `noised_outputs` adds each `Noise` to a prompt in one batched call; the
protocols (`experiments.tracing`, `papers.cheng2026.protocol.tracing`) say where and how to score.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import torch

from icl_core.engine import Generation, PromptEdit, generate
from icl_core.interventions import gaussian_noise
from icl_core.models.loading import LoadedModel
from icl_core.records import TrialRecord
from icl_core.replay import CleanRun


@dataclass(frozen=True)
class Condition:
    """Patch the target's `position_set` at block `layer` with the source's states there."""

    position_set: str
    layer: int


@dataclass(frozen=True)
class Patch:
    """What one position set patches in a prepared trial: target position
    `target_positions[r]` takes row r of `values(layer)` ([n positions, hidden]).
    `source_positions`: where those rows come from in the (first) source prompt;
    `n_unmatched`: positions the protocol could not match; `excluded`: why no condition of this
    set can run (e.g. "misaligned", "position_out_of_range"), else None."""

    target_positions: tuple[int, ...]
    source_positions: tuple[int, ...]
    n_unmatched: int
    values: Callable[[int], torch.Tensor]
    excluded: str | None = None


@dataclass(frozen=True)
class Scored:
    """A patched row scored by its protocol: `outcome` (transfer / preserve / malformed /
    source_copy), the `output` recorded, the `margin` (None where the protocol has none)."""

    outcome: str
    output: str
    margin: float | None = None


class PatchTrial(Protocol):
    """A trial prepared by a protocol: the target prompt to patch and how to patch and score it."""

    target_ids: Sequence[int]

    def patch(self, position_set: str) -> Patch:
        """What `position_set` patches (raises UnknownNameError for a set the protocol lacks)."""

    def generation(self) -> dict:
        """`engine.generate`'s keyword arguments for this trial (budget, clean run, reuse)."""

    def score(self, gen: Generation) -> Scored:
        """The outcome of one patched row."""


@dataclass(frozen=True)
class ConditionResult:
    """One patched trial. `outcome` is None iff `excluded` names a reason."""

    condition: Condition
    outcome: str | None
    excluded: str | None
    output: str
    margin: float | None
    target_positions: tuple[int, ...]
    source_positions: tuple[int, ...]
    n_unmatched: int


Transform = Callable[[torch.Tensor, Condition], torch.Tensor]


def patch_conditions(lm: LoadedModel, trial: PatchTrial, conditions: Sequence[Condition],
                     transform: Transform | None = None) -> list[ConditionResult]:  # fmt: skip
    """Every condition of `trial`, in order: the set's patch at the condition's layer
    (`transform(values, condition)` replaces the values first: controls), all runnable rows in
    one `generate` call, each scored by the trial; a condition whose set is excluded is
    returned with that reason and no output."""
    patches = {
        name: trial.patch(name) for name in dict.fromkeys(c.position_set for c in conditions)
    }
    runnable = [c for c in conditions if patches[c.position_set].excluded is None]
    variants = []
    for cond in runnable:
        patch = patches[cond.position_set]
        values = patch.values(cond.layer)
        if transform is not None:
            values = transform(values, cond)
        variants.append([PromptEdit(cond.layer, patch.target_positions, values)])
    gens = []
    if variants:
        gens = generate(lm.model, lm.tokenizer, trial.target_ids, variants, **trial.generation())
    by_cond = dict(zip(runnable, gens, strict=True))
    results = []
    for cond in conditions:
        p = patches[cond.position_set]
        where = (p.target_positions, p.source_positions, p.n_unmatched)
        gen = by_cond.get(cond)
        if gen is None:
            results.append(ConditionResult(cond, None, p.excluded, "", None, *where))
            continue
        s = trial.score(gen)
        results.append(ConditionResult(cond, s.outcome, None, s.output, s.margin, *where))
    return results


def condition_records(base: dict, results: Sequence[ConditionResult]) -> list[TrialRecord]:
    """One record per condition result; `base` holds the trial's fields (model, pair, seed,
    prompts, condition, ...)."""
    return [
        TrialRecord(
            **base,
            layer=r.condition.layer,
            position_set=r.condition.position_set,
            outcome=r.outcome,
            excluded=r.excluded,
            margin=r.margin,
            output=r.output,
            target_positions=r.target_positions,
            source_positions=r.source_positions,
            n_unmatched=r.n_unmatched,
        )
        for r in results
    ]


def excluded_records(base: dict, conditions: Sequence[Condition], reason: str
                     ) -> list[TrialRecord]:  # fmt: skip
    """One record per condition of a trial excluded as a whole, for `reason`."""
    return [TrialRecord(**base, layer=c.layer, position_set=c.position_set, outcome=None,
                        excluded=reason) for c in conditions]  # fmt: skip


@dataclass(frozen=True)
class Noise:
    """I.i.d. N(0, sigma^2) noise (`gaussian_noise`, drawn with `seed`) added to block
    `layer`'s output at `positions`."""

    positions: tuple[int, ...]
    layer: int
    sigma: float
    seed: int


def noised_outputs(lm: LoadedModel, input_ids: Sequence[int], noises: Sequence[Noise],
                   max_new_tokens: int, clean: CleanRun | None = None
                   ) -> list[Generation]:  # fmt: skip
    """Greedy continuations of the prompt under each noise, in order (one batched call)."""
    hidden = lm.info.hidden
    variants = [[PromptEdit(n.layer, n.positions,
                            gaussian_noise(len(n.positions), hidden, n.sigma, n.seed), "add")]
                for n in noises]  # fmt: skip
    return generate(lm.model, lm.tokenizer, input_ids, variants, max_new_tokens, clean=clean)
