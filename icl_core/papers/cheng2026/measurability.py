"""What the paper's claims can measure on a model: clean 5-shot accuracy per task (N, Wilson 95%
interval) and, from it, which claims have trials that count (a trial counts only where the model
answers the clean prompts). Shown by `icl-claims models check --mechanics NAME`."""

from __future__ import annotations

from icl_core.experiments.competence import competence
from icl_core.models.loading import LoadedModel
from icl_core.papers.cheng2026.design import HEADLINE
from icl_core.papers.cheng2026.profiles import QUALIFYING_ACCURACY
from icl_core.tasks import PAPER_TASKS


def competence_table(lm: LoadedModel, n: int = 10, seed: int = 0) -> tuple[list[dict], list[str]]:
    """(rows of `experiments.competence.competence` over the paper's tasks, what can be
    measured): the sweep-pair claims need correct clean answers on both tasks of a pair; the
    pair matrix (C7, C10) needs tasks at QUALIFYING_ACCURACY; C6 (probes) needs none."""
    rows = competence(lm, PAPER_TASKS, n, seed)
    correct = {r["task"] for r in rows if r["k"] > 0}
    qualified = [r["task"] for r in rows if r["accuracy"] >= QUALIFYING_ACCURACY]
    pair = " -> ".join(HEADLINE)
    notes = [
        f"headline pair {pair}: "
        + ("measurable (both tasks answered)" if set(HEADLINE) <= correct else
           "NOT measurable: a task is never answered correctly, every trial is excluded"),
        f"pair matrix (C7, C10): {len(qualified)} task(s) at accuracy >= {QUALIFYING_ACCURACY}"
        + (f" ({', '.join(qualified)})" if qualified else ": nothing to measure"),
        "probes (C6): measurable on any model",
    ]  # fmt: skip
    return rows, notes
