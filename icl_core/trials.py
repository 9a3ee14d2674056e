"""The rigorous protocol's trial: a (source, target) prompt pair laid out, run clean and
checked for exclusions (`prepare_pair`), then patched under many conditions (position set x
layer) by the patching kernel (`icl_core.kernels`) as a `RigorousTrial`, each condition
classified transfer / preserve / malformed / source_copy, or excluded with a reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from icl_core.context_window import check_context
from icl_core.engine import Generation, generate
from icl_core.errors import LayoutError, PromptTooLongError
from icl_core.forced_scoring import is_stop
from icl_core.kernels import Condition, ConditionResult, Patch, Scored, Transform, patch_conditions
from icl_core.models.loading import LoadedModel
from icl_core.prompts import Layout, build_layout, map_positions, render
from icl_core.replay import CleanRun, clean_prefill
from icl_core.scoring import classify, exclusion, layout_exclusion
from icl_core.tasks import TaskPair
from icl_core.tasks.task import first_line

ANSWER_MARGIN_TOKENS = 3


def answer_token_ids(tokenizer, layout: Layout, answer: str) -> tuple[int, ...]:
    """Tokens of " answer" as they follow the prompt (tokenized in context; the prompt's own
    tokens must be an unchanged prefix)."""
    full = tokenizer(layout.prompt.text + " " + answer, add_special_tokens=True)["input_ids"]
    n = len(layout)
    if tuple(full[:n]) == layout.input_ids:
        return tuple(full[n:])
    return tuple(tokenizer.encode(" " + answer, add_special_tokens=False))


class CleanRuns:
    """Clean prefills and greedy decodes of prompts, each computed once and shared by the pairs
    prepared with this object (the prompts of a matrix draw recur across its pairs). A decode
    within a smaller budget is the prefix of a longer one (greedy decoding is deterministic),
    so a shared run gives each pair exactly what its own run would."""

    def __init__(self) -> None:
        self._runs: dict[tuple[int, ...], tuple[CleanRun, tuple[int, ...], int]] = {}
        self._stops: dict[int, bool] = {}

    def run(self, lm: LoadedModel, input_ids: Sequence[int], budget: int) -> tuple[CleanRun, str]:
        """(the prompt's CleanRun, the text of its greedy continuation within `budget` tokens)."""
        key = tuple(input_ids)
        if key in self._runs:
            clean, tokens, decoded = self._runs[key]
            complete = len(tokens) < decoded or is_stop(lm.tokenizer, tokens[-1], self._stops)
            if budget <= decoded or complete:
                return clean, lm.tokenizer.decode(tokens[:budget], skip_special_tokens=True)
        else:
            clean = clean_prefill(lm.model, input_ids)
        (gen,) = generate(lm.model, lm.tokenizer, input_ids, [[]], budget, clean=clean)
        self._runs[key] = (clean, gen.token_ids, budget)
        return clean, gen.text


@dataclass
class PreparedPair:
    """A pair ready to patch: layouts, answers, clean outputs, the source's residual stream
    at every layer ([source tokens, hidden] per layer) and the target's CleanRun.
    `continuations`: token ids of the target answer, the source answer to the target's query
    and (distinct queries) the source's answer to its own query, as they follow the target.
    `excluded` names why no condition of this pair can count (then nothing else is filled).
    `untested`: prepared although the clean target answer is wrong (`prepare_pair(...,
    allow_wrong=True)`, for benchmarks only: its conditions measure speed, not transfer)."""

    pair: TaskPair
    target: Layout | None = None
    source: Layout | None = None
    excluded: str | None = None
    clean_target_output: str | None = None
    source_clean_correct: bool | None = None
    source_states: dict[int, torch.Tensor] = field(default_factory=dict)
    target_clean: CleanRun | None = None
    untested: bool = False
    max_new_tokens: int = 8
    continuations: tuple[tuple[int, ...], ...] = ()

    @property
    def source_answer(self) -> str | None:
        return self.pair.source_answer_for_query

    @property
    def target_answer(self) -> str:
        return self.pair.target.answer

    @property
    def copy_answer(self) -> str | None:
        """The source task's answer to the source's own query, where it differs from the
        target's query (an output equal to it is `source_copy`, not a transfer)."""
        src, tgt = self.pair.source, self.pair.target
        return src.answer if src.query != tgt.query else None


def prepare_pair(
    lm: LoadedModel,
    pair: TaskPair,
    template: str = "paper",
    max_new_tokens: int | None = None,
    allow_wrong: bool = False,
    runs: CleanRuns | None = None,
) -> PreparedPair:
    """Lay out both prompts, run both clean, capture the source's states; stop at the first
    exclusion (layout error, too long, inapplicable, ambiguous, clean target wrong; with
    `allow_wrong`, a wrong clean target answer marks the pair `untested` instead). Decoding
    budget: `max_new_tokens`, default the longer answer's token count + ANSWER_MARGIN_TOKENS.
    `runs`: clean runs shared with other pairs (their prompts are computed once)."""
    runs = runs if runs is not None else CleanRuns()
    prep = PreparedPair(pair)
    try:
        prep.target = build_layout(render(pair.target, template), lm.tokenizer)
        prep.source = build_layout(render(pair.source, template), lm.tokenizer)
    except LayoutError as exc:
        prep.excluded = layout_exclusion(exc)
        return prep
    prep.excluded = exclusion(prep.source_answer, prep.target_answer, None)
    if prep.excluded:
        return prep
    answers = (prep.target_answer, prep.source_answer)
    if prep.copy_answer is not None:
        answers += (prep.copy_answer,)
    prep.continuations = tuple(answer_token_ids(lm.tokenizer, prep.target, a) for a in answers)
    longest = max(len(c) for c in prep.continuations)
    prep.max_new_tokens = max_new_tokens or longest + ANSWER_MARGIN_TOKENS
    source_tokens = len(answer_token_ids(lm.tokenizer, prep.source, pair.source.answer))
    budget = max_new_tokens or source_tokens + ANSWER_MARGIN_TOKENS
    try:
        check_context(lm.model, len(prep.target.input_ids) + prep.max_new_tokens)
        check_context(lm.model, len(prep.source.input_ids) + budget)
    except PromptTooLongError as exc:
        prep.excluded = layout_exclusion(exc)
        return prep
    prep.target_clean, prep.clean_target_output = runs.run(lm, prep.target.input_ids,
                                                           prep.max_new_tokens)  # fmt: skip
    prep.excluded = exclusion(prep.source_answer, prep.target_answer, prep.clean_target_output)
    if prep.excluded == "clean_target_wrong" and allow_wrong:
        prep.excluded, prep.untested = None, True
    if prep.excluded:
        return prep
    source_clean, source_text = runs.run(lm, prep.source.input_ids, budget)
    prep.source_states = source_clean.states
    prep.source_clean_correct = first_line(source_text) == pair.source.answer
    return prep


@dataclass(frozen=True)
class RigorousTrial:
    """A prepared pair as the patching kernel's `PatchTrial`: role-mapped source states
    (`strict`: a set whose roles differ in token count is `misaligned`), forced-continuation
    scoring with the source-minus-target margin; `naive`: one full forward and decode per
    condition, no reuse (the benchmark's baseline)."""

    prep: PreparedPair
    strict: bool = False
    naive: bool = False
    batch_size: int = 8

    @property
    def target_ids(self) -> tuple[int, ...]:
        return self.prep.target.input_ids

    def patch(self, position_set: str) -> Patch:
        prep = self.prep
        m = map_positions(prep.source, prep.target, prep.target.position_set(position_set))
        rows = list(m.source)
        return Patch(m.target, m.source, len(m.unmatched),
                     lambda layer: prep.source_states[layer][rows],
                     "misaligned" if self.strict and not m.exact else None)  # fmt: skip

    def generation(self) -> dict:
        # the margin needs the target's and source's answers forced on every row; the copy
        # answer only proves a source_copy, so it runs on the rows those two leave unproven
        prep, naive = self.prep, self.naive
        reuse = {} if naive else {"clean": prep.target_clean, "decode": "unmatched", "scored": 2}
        return dict(max_new_tokens=prep.max_new_tokens, continuations=prep.continuations,
                    batch_size=1 if naive else self.batch_size,
                    decode_batch=1 if naive else 64, reuse_prefix=not naive, **reuse)  # fmt: skip

    def score(self, gen: Generation) -> Scored:
        prep = self.prep
        target_lp, source_lp = gen.continuation_logprobs[:2]
        outcome = classify(gen.text, prep.source_answer, prep.target_answer, prep.copy_answer)
        return Scored(outcome, first_line(gen.text), source_lp - target_lp)


def run_conditions(
    lm: LoadedModel,
    prep: PreparedPair,
    conditions: Sequence[Condition],
    strict: bool = False,
    batch_size: int = 8,
    naive: bool = False,
    transform: Transform | None = None,
) -> list[ConditionResult]:
    """Patch every condition (role-mapped source states) and classify (`RigorousTrial`).
    Requires a prepared pair that is not excluded. `transform(values, condition)` replaces the
    mapped source states [n_positions, hidden] before patching (controls: shuffled roles,
    norm-matched noise)."""
    if prep.excluded:
        raise ValueError(f"pair is excluded ({prep.excluded}); nothing to run")
    trial = RigorousTrial(prep, strict, naive, batch_size)
    return patch_conditions(lm, trial, conditions, transform)
