"""Outcome of a trial and the reasons a trial is excluded (SPEC 5.4).

Rigorous scoring is strict: the first line of the greedy output, stripped, must equal an answer
exactly. Transfer = equals the source task's answer to the target's query; preserve = equals the
target's answer; source_copy = equals the source task's answer to the SOURCE's own query (the
answer leaked through query positions: not a transfer); malformed = none of these.
Exclusions are counted, never silently dropped.
"""

from __future__ import annotations

from icl_core.errors import LayoutError, PromptTooLongError
from icl_core.tasks.task import first_line

OUTCOMES = ("transfer", "preserve", "source_copy", "malformed")
EXCLUSIONS = (
    "source_inapplicable",  # the source task has no answer for the target's query
    "ambiguous",  # source and target answers coincide for this query
    "layout_error",  # a token straddles two roles in a prompt of the pair
    "too_long",  # a prompt with its decoding budget exceeds the model's context
    "clean_target_wrong",  # the unpatched target prompt is answered incorrectly
    "misaligned",  # strict mode: a patched role has different token counts in source/target
    "source_clean_wrong",  # the unpatched source prompt is answered incorrectly (rigorous)
)


def layout_exclusion(exc: LayoutError) -> str:
    """The exclusion reason of a prompt that could not be laid out or run: `too_long` beyond the
    model's context, `layout_error` otherwise."""
    return "too_long" if isinstance(exc, PromptTooLongError) else "layout_error"


def classify(
    output: str, source_answer: str, target_answer: str, copy_answer: str | None = None
) -> str:
    """transfer / preserve / source_copy / malformed by exact match of the output's first line.
    `copy_answer`: the source's answer to its own query (None: the queries are the same)."""
    answer = first_line(output)
    if answer == source_answer.strip():
        return "transfer"
    if answer == target_answer.strip():
        return "preserve"
    if copy_answer is not None and answer == copy_answer.strip():
        return "source_copy"
    return "malformed"


def exclusion(
    source_answer: str | None, target_answer: str, clean_output: str | None
) -> str | None:
    """The reason a trial is excluded before any intervention, or None if it is valid.
    `clean_output`: the unpatched target's greedy output (None: not yet run)."""
    if source_answer is None:
        return "source_inapplicable"
    if source_answer.strip() == target_answer.strip():
        return "ambiguous"
    if clean_output is not None and first_line(clean_output) != target_answer.strip():
        return "clean_target_wrong"
    return None
