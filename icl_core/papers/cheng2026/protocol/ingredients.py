"""The paper's protocol (SPEC 6, protocol "paper") as the ingredients its experiments share:
how prompts are built (demos), where positions are (positions), how outputs are scored
(scorer) and what the source states are (source), each switchable to its rigorous counterpart
so that ablations can show which reported results each ingredient makes. Patching
(`protocol.patching`) and causal tracing (`protocol.tracing`) run on these.

Faithful defaults (../paper_protocol/README.md, checked against the release's scripts):
- demos "fixed": the release's five demos; prompt i of a task has the task's test input i as
  query. Switched, "sampled": demos drawn per prompt with `sample_example(task, 5, seed)`, the
  query still the paper's test input where the task has them, demos re-drawn if they contain
  the query.
- positions "paper": the paper's line-counting algorithm on each prompt (absolute indices,
  `icl_core.papers.cheng2026.protocol.positions`). Switched, "roles": our layout
  (`icl_core.prompts.build_layout`); a prompt without an unambiguous layout raises LayoutError.
- scorer "paper": the release's lenient scorers (transfer checked first; a source task without
  an answer for a query never transfers, as in the release's try/except); "neither" is
  recorded as "malformed". Switched, "strict": `icl_core.scoring.classify` on exact first lines.
- source "mean": the mean over the first n source prompts. Switched, "paired": one source
  prompt, the source's prompt number i with the target's query.
Known deviation: decoding stops at the first newline (engine), where the release generated 30
tokens and stripped before taking the first line; only an output starting with a newline
scores differently (empty here).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from icl_core.engine import generate
from icl_core.errors import InvalidChoiceError
from icl_core.models.loading import LoadedModel
from icl_core.papers.cheng2026.protocol import (
    paper_example,
    paper_outcome,
    paper_score,
    paper_task,
    paper_task_names,
)
from icl_core.papers.cheng2026.protocol.positions import PaperPositions, paper_positions
from icl_core.prompts import Layout, build_layout, render
from icl_core.replay import CleanRun, clean_prefill
from icl_core.scoring import classify
from icl_core.tasks import ICLExample, derive_seed, get_task, sample_example
from icl_core.tasks.task import first_line

# each ingredient: (the paper's way, its rigorous counterpart)
INGREDIENTS = {
    "demos": ("fixed", "sampled"),
    "positions": ("paper", "roles"),
    "scorer": ("paper", "strict"),
    "source": ("mean", "paired"),
}
PAPER_K = 5
PAPER_MAX_NEW_TOKENS = 30

PAPER_DEPTH_FRACTIONS = (0.30, 0.44, 0.52, 0.59)


def paper_layer_grid(n_layers: int) -> list[int]:
    """The cross-model runs' layers: depth fractions 0.30/0.44/0.52/0.59, rounded down."""
    return sorted({int(f * n_layers) for f in PAPER_DEPTH_FRACTIONS})


@dataclass(frozen=True)
class PaperWay:
    """The ingredients an experiment runs under (module docstring), the seed of sampled demos
    and the decoding budget; anything but INGREDIENTS' values raises InvalidChoiceError."""

    demos: str = "fixed"
    positions: str = "paper"
    scorer: str = "paper"
    source: str = "mean"
    seed: int = 0
    max_new_tokens: int = PAPER_MAX_NEW_TOKENS

    def __post_init__(self) -> None:
        for name, valid in INGREDIENTS.items():
            if getattr(self, name) not in valid:
                raise InvalidChoiceError(f"{name}={getattr(self, name)!r}; valid: {valid}")

    @property
    def switched(self) -> tuple[tuple[str, str], ...]:
        """The ingredients that differ from the paper's way, in INGREDIENTS order."""
        return tuple((k, getattr(self, k)) for k, v in INGREDIENTS.items() if getattr(self, k)
                     != v[0])  # fmt: skip

    @property
    def protocol(self) -> str:
        """The protocol name: "paper", or "paper+<ingredient>=<value>..." for ablations."""
        return "paper" + "".join(f"+{k}={v}" for k, v in self.switched)

    @property
    def condition(self) -> str:
        """The switched ingredients as a record condition ("" for the paper's way)."""
        return ",".join(f"{k}={v}" for k, v in self.switched)

    def check_task(self, task: str) -> None:
        """UnknownNameError where `task` is not one these ingredients can prompt or score."""
        if self.demos == "fixed" or self.scorer == "paper":
            paper_task(task)  # UnknownNameError("paper task", ...)
        if self.demos == "sampled":
            get_task(task)


def check_count(task: str, n: int, what: str) -> None:
    """InvalidChoiceError where a paper task has fewer than `n` test inputs."""
    if task in paper_task_names() and n > len(paper_task(task).test_inputs):
        raise InvalidChoiceError(
            f"{what}={n}: {task} has {len(paper_task(task).test_inputs)} test inputs"
        )


# --------------------------------------------------------------------------- answers, scoring


def task_answer(task: str, x: str) -> str | None:
    """The answer of `task` for `x`: the release's data for a paper task (registry fallback),
    else the registry task's; None where the task has no answer for `x`."""
    try:
        if task in paper_task_names():
            return paper_task(task).answer_for(x)
        t = get_task(task)
        return t.answer(x) if t.accepts(x) else None
    except InvalidChoiceError:
        return None


def _paper_correct(task: str, output: str, x: str) -> bool:
    try:
        return paper_score(task, output, x) == "correct"
    except InvalidChoiceError:  # no answer for x: never correct (the release's try/except)
        return False


def score_outcome(
    scorer: str, source: str, target: str, output: str, x_source: str, x_target: str
) -> str:
    """transfer / preserve / malformed of a patched output. "paper": `paper_outcome` (lenient,
    transfer first), a source without an answer for `x_source` never transfers, "neither" ->
    "malformed". "strict": `classify` on exact first lines against `task_answer`s."""
    if scorer == "paper":
        try:
            outcome = paper_outcome(source, target, output, x_source, x_target)
        except InvalidChoiceError:
            outcome = "preserve" if _paper_correct(target, output, x_target) else "neither"
        return "malformed" if outcome == "neither" else outcome
    if scorer != "strict":
        raise InvalidChoiceError(f"scorer={scorer!r}; valid: {INGREDIENTS['scorer']}")
    s_answer, t_answer = task_answer(source, x_source), task_answer(target, x_target)
    if t_answer is None:
        raise InvalidChoiceError(f"target task {target!r} has no answer for {x_target!r}")
    if s_answer is None:
        return "preserve" if first_line(output) == t_answer.strip() else "malformed"
    return classify(output, s_answer, t_answer)


def clean_correct(scorer: str, task: str, output: str, x: str) -> bool | None:
    """Whether a clean output answers `x` for `task` under `scorer` (None: no answer exists)."""
    answer = task_answer(task, x)
    if answer is None:
        return None
    if scorer == "paper":
        return _paper_correct(task, output, x)
    return first_line(output) == answer.strip()


# --------------------------------------------------------------------------- prompts


def _sampled(task: str, query: str | None, seed: int) -> ICLExample:
    """sample_example(task, 5, seed); with `query`, its query replaced (demos re-drawn with
    derived seeds while they contain the query)."""
    ex = sample_example(task, PAPER_K, seed)
    n = 0
    while query is not None and query in ex.demo_inputs:
        n += 1
        ex = sample_example(task, PAPER_K, derive_seed(seed, f"redraw:{n}"))
    if query is None:
        return ex
    return ICLExample(task, ex.demos, query, task_answer(task, query) or "")


def prompt_example(way: PaperWay, task: str, i: int, query: str | None = None) -> ICLExample:
    """Prompt number i of `task`: its test input i as query (or `query` if given). Fixed demos:
    the release's; sampled: drawn with seed derive_seed(way.seed, "paper:<task>:<i>"), the
    query from the paper's test inputs where the task has them, else sampled."""
    if query is None and task in paper_task_names():
        query = paper_task(task).test_inputs[i]
    if way.demos == "fixed":
        demos = paper_example(task, 0).demos
        return ICLExample(task, demos, query, task_answer(task, query) or "")
    return _sampled(task, query, derive_seed(way.seed, f"paper:{task}:{i}"))


@dataclass
class PaperPrompt:
    """A rendered prompt, its tokens (default special tokens), the clean block outputs at the
    run's layers, the paper's positions ("paper") or its layout ("roles")."""

    example: ICLExample
    text: str
    ids: tuple[int, ...]
    states: dict[int, torch.Tensor]
    paper: PaperPositions | None = None
    layout: Layout | None = None
    clean_output: str = ""
    clean: CleanRun | None = None


def capture(lm: LoadedModel, way: PaperWay, example: ICLExample, layers: Sequence[int],
            clean_output: bool = False, keep_run: bool = False) -> PaperPrompt:  # fmt: skip
    """Render, tokenize and run `example` clean, keeping `layers`' states (`keep_run`: the
    whole CleanRun too; `clean_output`: also decode it clean). Raises LayoutError where
    positions="roles" and the prompt has no unambiguous layout."""
    prompt = render(example, "paper")
    ids = tuple(lm.tokenizer(prompt.text, add_special_tokens=True)["input_ids"])
    run = clean_prefill(lm.model, ids)
    out = PaperPrompt(example, prompt.text, ids, {layer: run.states[layer] for layer in layers})
    if way.positions == "paper":
        out.paper = paper_positions(prompt.text, lm.tokenizer)
    else:
        out.layout = build_layout(prompt, lm.tokenizer)
    if keep_run:
        out.clean = run
    if clean_output:
        (gen,) = generate(lm.model, lm.tokenizer, ids, [[]], way.max_new_tokens, clean=run)
        out.clean_output = gen.text
    return out


__all__ = [
    "INGREDIENTS", "PAPER_K", "PAPER_MAX_NEW_TOKENS", "PaperPrompt", "PaperWay", "capture",
    "check_count", "clean_correct", "prompt_example", "score_outcome", "task_answer",
]  # fmt: skip
