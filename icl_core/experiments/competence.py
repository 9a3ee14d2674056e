"""Clean competence (SPEC 5.4): 5-shot greedy accuracy of a model per task, on prompts drawn
for this purpose only (seed role "competence:<task>:<i>", disjoint from every patching trial's
seeds), so pairs can be qualified before any patching run."""

from __future__ import annotations

from collections.abc import Sequence

from icl_core.engine import generate
from icl_core.errors import LayoutError
from icl_core.models.loading import LoadedModel
from icl_core.prompts import build_layout, render
from icl_core.stats import wilson_interval
from icl_core.tasks import derive_seed, sample_example
from icl_core.trials import ANSWER_MARGIN_TOKENS, answer_token_ids


def task_accuracy(lm: LoadedModel, task: str, n: int, seed: int, k: int = 5) -> dict:
    """{task, k (correct), n, accuracy, ci_low, ci_high, layout_errors} over `n` fresh 5-shot
    prompts; correct = the first line of the greedy output, stripped, equals the answer. A
    prompt the tokenizer cannot lay out (a token straddling two roles) or the model cannot hold
    (`too_long`) counts as not correct: such a task cannot be patched there."""
    correct = errors = 0
    for i in range(n):
        ex = sample_example(task, k, derive_seed(seed, f"competence:{task}:{i}"))
        try:
            layout = build_layout(render(ex), lm.tokenizer)
            budget = len(answer_token_ids(lm.tokenizer, layout, ex.answer)) + ANSWER_MARGIN_TOKENS
            (gen,) = generate(lm.model, lm.tokenizer, layout.input_ids, [[]], budget)
        except LayoutError:
            errors += 1
            continue
        correct += gen.answer == ex.answer.strip()
    lo, hi = wilson_interval(correct, n)
    return dict(
        task=task, k=correct, n=n, accuracy=correct / n, ci_low=lo, ci_high=hi, layout_errors=errors
    )


def competence(lm: LoadedModel, tasks: Sequence[str], n: int, seed: int) -> list[dict]:
    """`task_accuracy` of every task."""
    return [task_accuracy(lm, t, n, seed) for t in tasks]
