"""The paper's own task data (protocol "paper"), read from ``paper_tasks.json`` beside it.

The file is a copy of the data in the authors' public code release for arXiv 2605.04061 (Cheng &
Zhang, 2026, MIT licence); see its "attribution" field. It reproduces the paper's protocol *flaws
included, on purpose* (SPEC 2.1): fixed demos shared by every prompt of a task, five-letter words
only (so ``length`` always answers "5"). Never used by the rigorous protocol's sampling.

Contract: reads package data only (never ``/work/shared``); ``paper_task`` returns a fresh object
whose containers the caller may modify without affecting later calls.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from icl_core.errors import InvalidChoiceError, UnknownNameError
from icl_core.tasks.registry import get_task, task_names
from icl_core.tasks.sampling import ICLExample

PAPER_TASKS_FILE = "paper_tasks.json"


@cache
def _document() -> dict[str, Any]:
    return json.loads(resources.files(__package__).joinpath(PAPER_TASKS_FILE).read_text("utf-8"))


def paper_attribution() -> str:
    """The source and licence of the paper's task data."""
    return _document()["attribution"]


@dataclass(frozen=True)
class PaperTask:
    """One task of the paper's release.

    ``demos``: the five fixed (input, output) demonstrations; ``test_inputs``: the 50 test inputs in
    the release's seed-42 order; ``answers``: test input -> answer; ``acceptable_answers``: input ->
    accepted answers (antonym only, else None). ``regime`` is the paper's own label.
    """

    name: str
    regime: str
    demos: tuple[tuple[str, str], ...]
    test_inputs: tuple[str, ...]
    answers: dict[str, str]
    acceptable_answers: dict[str, tuple[str, ...]] | None

    def answer_for(self, x: str) -> str:
        """The release's answer for a test or demo input.

        Other inputs fall back to the registry task of the same name where it accepts ``x`` (so the
        paper's scorers can be applied to any trial); InvalidChoiceError otherwise.
        """
        if x in self.answers:
            return self.answers[x]
        for demo_input, demo_output in self.demos:
            if demo_input == x:
                return demo_output
        if self.name in task_names() and get_task(self.name).accepts(x):
            return get_task(self.name).answer(x)
        raise InvalidChoiceError(
            f"paper task {self.name!r} has no answer for {x!r}: not a demo or test input of the "
            f"release, and no registry task of that name accepts it"
        )

    def accepted_answers(self, x: str) -> frozenset[str]:
        """The answers the paper's scorer accepts for ``x`` (antonym: its set; else the answer)."""
        if self.acceptable_answers is not None and x in self.acceptable_answers:
            return frozenset(self.acceptable_answers[x])
        return frozenset({self.answer_for(x)})


def paper_task_names() -> list[str]:
    """Task names of the release, in its order: the paper's eight plus reverse and pig_latin."""
    return list(_document()["tasks"])


def paper_task(name: str) -> PaperTask:
    """The release's data for task ``name``; UnknownNameError("paper task", ...) otherwise."""
    tasks = _document()["tasks"]
    if name not in tasks:
        raise UnknownNameError("paper task", name, tasks)
    raw = tasks[name]
    acceptable = raw.get("acceptable_answers")
    return PaperTask(
        name=name,
        regime=raw["regime"],
        demos=tuple((x, y) for x, y in raw["demos"]),
        test_inputs=tuple(raw["test_inputs_seed42_order"]),
        answers=dict(raw["answers"]),
        acceptable_answers=(
            None if acceptable is None else {k: tuple(v) for k, v in acceptable.items()}
        ),
    )


def paper_example(name: str, query_index: int = 0) -> ICLExample:
    """The paper's prompt contents for `name`: its five fixed demos and its test input number
    `query_index` (seed-42 order)."""
    task = paper_task(name)
    if not 0 <= query_index < len(task.test_inputs):
        raise InvalidChoiceError(
            f"query_index {query_index} out of range: {name} has "
            f"{len(task.test_inputs)} test inputs"
        )
    query = task.test_inputs[query_index]
    return ICLExample(name, task.demos, query, task.answer_for(query))


def paper_pairs() -> list[tuple[str, str]]:
    """Every (input, output) of the release's task data: each task's demos, its test inputs
    with their answers, and each acceptable answer (input ""): what a tokenizer must cover to
    render the paper protocol's prompts (the organisms' `build_tokenizer`)."""
    pairs: list[tuple[str, str]] = []
    for name in paper_task_names():
        task = paper_task(name)
        pairs += list(task.demos) + list(task.answers.items())
        for options in (task.acceptable_answers or {}).values():
            pairs += [("", y) for y in options]
    return pairs
