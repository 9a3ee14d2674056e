"""The paper's scorers and outcome rule, reproduced exactly, flaws included, ON PURPOSE.

These exist so the "paper" protocol can show which reported results come from scoring (SPEC 2.1,
flaw 3): the pattern_completion scorer reads only the first whitespace token (so a repeat_word
answer "x x" scores as the pattern answer "x"), the sentiment scorer accepts any output that
*contains* the label, and transfer is checked before preserve. The rigorous protocol uses
``Task.score`` instead (strict, exact first line).

Verdicts: "correct", "incorrect", "malformed". Outcomes: "transfer", "preserve", "neither".
"""

from __future__ import annotations

from icl_core.papers.cheng2026.protocol.data import paper_task

VERDICTS = ("correct", "incorrect", "malformed")
PAPER_OUTCOMES = ("transfer", "preserve", "neither")
_LABELS = ("positive", "negative")


def paper_first_line(output: str) -> str:
    """The paper's normalisation: strip, first line, strip."""
    return output.strip().split("\n")[0].strip()


def _too_long_or_empty(pred: str, answer: str) -> bool:
    return not pred or len(pred) > 3 * len(answer) + 10


def _default(pred: str, answer: str) -> str:
    if pred == answer:
        return "correct"
    return "malformed" if _too_long_or_empty(pred, answer) else "incorrect"


def paper_score(task_name: str, output: str, x: str) -> str:
    """The paper's verdict on ``output`` for input ``x`` of task ``task_name``.

    Default: first line equal to the answer -> correct; empty or longer than 3*len(answer)+10 ->
    malformed; else incorrect. sentiment: lower-cased first line; expected label as a substring ->
    correct, the other label as a substring -> incorrect, else malformed. antonym: lower-cased
    first line in the accepted set -> correct, else the default's malformed/incorrect.
    pattern_completion: the default applied to the first whitespace token of the first line only.
    Deliberately lenient where the paper was (see the module docstring).
    """
    task = paper_task(task_name)
    pred = paper_first_line(output)
    answer = task.answer_for(x)
    if task_name == "sentiment":
        lowered = pred.lower()
        other = _LABELS[1 - _LABELS.index(answer)] if answer in _LABELS else None
        if answer in lowered:
            return "correct"
        if other is not None and other in lowered:
            return "incorrect"
        return "malformed"
    if task_name == "antonym":
        if pred.lower() in task.accepted_answers(x):
            return "correct"
        return "malformed" if _too_long_or_empty(pred, answer) else "incorrect"
    if task_name == "pattern_completion":
        tokens = pred.split()
        return _default(tokens[0] if tokens else "", answer)
    return _default(pred, answer)


def paper_outcome(
    source_task: str, target_task: str, output: str, x_source: str, x_target: str
) -> str:
    """The paper's outcome: "transfer" if the source scorer says correct on ``x_source`` (checked
    FIRST, so an output correct for both counts as transfer), else "preserve" if the target scorer
    says correct on ``x_target``, else "neither". Flawed on purpose (see the module docstring)."""
    if paper_score(source_task, output, x_source) == "correct":
        return "transfer"
    if paper_score(target_task, output, x_target) == "correct":
        return "preserve"
    return "neither"
