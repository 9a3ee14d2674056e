"""The paper's released task data and scorers (protocol "paper"), flaws included (SPEC 2.1).

These tests pin the paper's protocol as it was, including its flaws, and show each flaw next to
the rigorous counterpart.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from icl_core.errors import InvalidChoiceError, UnknownNameError
from icl_core.papers.cheng2026.protocol import (
    PAPER_OUTCOMES,
    VERDICTS,
    paper_attribution,
    paper_outcome,
    paper_score,
    paper_task,
    paper_task_names,
)
from icl_core.tasks import PAPER_TASKS, ambiguous_queries, get_task, is_degenerate

STRING_TASKS = ["reverse", "uppercase", "pig_latin", "first_letter", "repeat_word", "length"]
RULE_TASKS = [
    "uppercase",
    "first_letter",
    "repeat_word",
    "length",
    "linear_2x",
    "reverse",
    "pattern_completion",
]


# --- data ---------------------------------------------------------------------------------------


def test_data_is_packaged_with_attribution():
    data = resources.files("icl_core.papers.cheng2026.protocol").joinpath("paper_tasks.json")
    assert data.is_file()
    text = paper_attribution()
    for needle in ("2605.04061", "Cheng", "Zhang", "MIT", "Single-Position Intervention Fails"):
        assert needle in text


def test_package_sources_name_no_outside_protocol_folder():
    package = Path(resources.files("icl_core.tasks"))  # type: ignore[arg-type]
    for source in package.glob("*.py"):
        assert "paper_protocol" not in source.read_text(encoding="utf-8"), source.name


def test_task_names():
    names = paper_task_names()
    assert set(PAPER_TASKS) <= set(names)
    assert set(names) - set(PAPER_TASKS) == {"reverse", "pig_latin"}


@pytest.mark.parametrize("name", paper_task_names())
def test_each_task_has_five_demos_and_fifty_answered_test_inputs(name):
    task = paper_task(name)
    assert task.name == name and task.regime
    assert len(task.demos) == 5
    assert len(task.test_inputs) == 50 == len(set(task.test_inputs))
    assert set(task.answers) == set(task.test_inputs)
    assert not set(task.test_inputs) & {x for x, _ in task.demos}
    assert (task.acceptable_answers is not None) == (name == "antonym")
    for x in task.test_inputs:
        assert paper_score(name, task.answers[x], x) == "correct"
    for x, y in task.demos:
        assert task.answer_for(x) == y
        assert paper_score(name, y, x) == "correct"


def test_seed42_order_is_kept():
    assert paper_task("uppercase").test_inputs[:4] == ("honey", "frost", "badge", "stone")
    assert paper_task("linear_2x").test_inputs[:3] == ("36", "29", "55")


def test_paper_task_returns_fresh_containers():
    paper_task("uppercase").answers["honey"] = "WRONG"
    assert paper_task("uppercase").answers["honey"] == "HONEY"


def test_unknown_paper_task():
    with pytest.raises(UnknownNameError, match="pattern_completion"):
        paper_task("nope")
    with pytest.raises(UnknownNameError):
        paper_score("nope", "x", "y")


def test_no_answer_outside_the_release_without_a_rule():
    with pytest.raises(InvalidChoiceError, match="pig_latin"):
        paper_score("pig_latin", "ananabay", "banana")
    assert paper_task("uppercase").answer_for("kiwi") == "KIWI"  # falls back to the registry rule


@pytest.mark.parametrize("name", RULE_TASKS)
def test_our_definitions_agree_with_the_release(name):
    paper, ours = paper_task(name), get_task(name)
    for x in paper.test_inputs + tuple(x for x, _ in paper.demos):
        assert ours.answer(x) == paper.answer_for(x)


def test_our_lexicons_agree_with_the_release():
    sentiment = paper_task("sentiment")
    for x in sentiment.test_inputs:
        assert get_task("sentiment").answer(x) == sentiment.answers[x]
    antonym, ours = paper_task("antonym"), get_task("antonym")
    shared = [x for x in antonym.test_inputs if ours.accepts(x)]
    assert len(shared) >= 25
    for x in shared:
        assert ours.answer(x) in antonym.accepted_answers(x)


# --- flaw 1: fixed demonstrations ----------------------------------------------------------------


def test_flaw1_every_string_task_uses_the_same_five_demo_words():
    demo_inputs = {tuple(x for x, _ in paper_task(n).demos) for n in STRING_TASKS}
    assert demo_inputs == {("apple", "brain", "cloud", "delta", "flame")}
    assert len({paper_task(n).test_inputs for n in STRING_TASKS}) == 1


# --- flaw 2: degenerate length ------------------------------------------------------------------


def test_flaw2_length_is_degenerate_on_the_papers_words():
    paper = paper_task("length")
    words = paper.test_inputs + tuple(x for x, _ in paper.demos)
    assert {len(w) for w in words} == {5}
    assert set(paper.answers.values()) == {"5"}
    assert is_degenerate("length", paper.test_inputs)
    assert is_degenerate("length", [x for x, _ in paper.demos])
    assert not is_degenerate("length", get_task("length").query_pool)  # the rigorous pools


# --- flaw 3: scoring overlap --------------------------------------------------------------------


def test_flaw3_pattern_scorer_reads_only_the_first_token():
    x = "w x w x w"  # a test input of the release, answer "x"
    repeat_output = "x x"  # the correct repeat_word answer for the word "x" ("w w" format)
    assert paper_score("pattern_completion", repeat_output, x) == "correct"
    assert not get_task("pattern_completion").score(repeat_output, x)
    assert get_task("repeat_word").score(repeat_output, "x")

    # the form in the paper's README: "grape grape" scores as the pattern answer "grape"
    x = "kiwi grape kiwi grape kiwi"
    assert get_task("pattern_completion").answer(x) == "grape"
    assert paper_score("pattern_completion", "grape grape", x) == "correct"
    assert not get_task("pattern_completion").score("grape grape", x)


def test_flaw3_a_repeat_style_output_counts_as_transfer():
    """Transfer is checked first, so an output correct for BOTH tasks is a "transfer"."""
    outcome = paper_outcome("pattern_completion", "repeat_word", "x x", "w x w x w", "x")
    assert outcome == "transfer"
    assert paper_score("repeat_word", "x x", "x") == "correct"  # it also preserves the target
    outcome = paper_outcome(
        "pattern_completion", "repeat_word", "grape grape", "kiwi grape kiwi grape kiwi", "grape"
    )
    assert outcome == "transfer"


def test_flaw3_every_pattern_test_input_accepts_the_repeated_answer():
    task = paper_task("pattern_completion")
    strict = get_task("pattern_completion")
    for x in task.test_inputs:
        b = task.answers[x]
        assert paper_score("pattern_completion", f"{b} {b}", x) == "correct"
        assert paper_score("pattern_completion", f"{b} and then some", x) == "correct"
        assert not strict.score(f"{b} {b}", x)


def test_flaw_sentiment_scorer_accepts_substrings():
    x = "gloomy"  # negative
    assert paper_score("sentiment", "negative", x) == "correct"
    assert paper_score("sentiment", "Negative!", x) == "correct"
    assert paper_score("sentiment", "not negative but positive", x) == "correct"
    assert paper_score("sentiment", "nonnegatives", x) == "correct"
    assert paper_score("sentiment", "positive", x) == "incorrect"
    assert paper_score("sentiment", "neutral", x) == "malformed"
    assert paper_score("sentiment", "", x) == "malformed"
    assert not get_task("sentiment").score("Negative!", x)
    assert paper_score("sentiment", "positively", "grateful") == "correct"


# --- the scorers, exactly -----------------------------------------------------------------------


def test_default_scorer():
    x = "honey"  # uppercase answer "HONEY" (5 characters): malformed above 3*5+10 = 25
    assert paper_score("uppercase", "HONEY", x) == "correct"
    assert paper_score("uppercase", "  \n HONEY \nInput: x", x) == "correct"  # strip first
    assert paper_score("uppercase", "HONEY.", x) == "incorrect"
    assert paper_score("uppercase", "honey", x) == "incorrect"
    assert paper_score("uppercase", "", x) == "malformed"
    assert paper_score("uppercase", "  \n  ", x) == "malformed"
    assert paper_score("uppercase", "A" * 25, x) == "incorrect"
    assert paper_score("uppercase", "A" * 26, x) == "malformed"
    assert paper_score("length", "5\n6", x) == "correct"
    assert paper_score("linear_2x", "72", "36") == "correct"
    assert paper_score("linear_2x", "73", "36") == "incorrect"


def test_antonym_scorer():
    assert paper_score("antonym", "cold", "hot") == "correct"
    assert paper_score("antonym", " COOL \nmore", "hot") == "correct"
    assert paper_score("antonym", "warm", "hot") == "incorrect"
    assert paper_score("antonym", "", "hot") == "malformed"
    assert paper_score("antonym", "x" * 50, "hot") == "malformed"


def test_pattern_scorer():
    assert paper_score("pattern_completion", "Y", "Z Y Z Y Z") == "correct"
    assert paper_score("pattern_completion", "Z", "Z Y Z Y Z") == "incorrect"
    assert paper_score("pattern_completion", "", "Z Y Z Y Z") == "malformed"
    assert paper_score("pattern_completion", "Y" * 14, "Z Y Z Y Z") == "malformed"


def test_outcomes():
    assert set(PAPER_OUTCOMES) == {"transfer", "preserve", "neither"}
    assert set(VERDICTS) == {"correct", "incorrect", "malformed"}
    args = ("uppercase", "repeat_word")
    assert paper_outcome(*args, "HONEY", "honey", "honey") == "transfer"
    assert paper_outcome(*args, "honey honey", "honey", "honey") == "preserve"
    assert paper_outcome(*args, "Honey", "honey", "honey") == "neither"
    assert paper_outcome(*args, "", "honey", "honey") == "neither"


# --- coincidences on the paper's own words ------------------------------------------------------


def test_kayak_is_the_papers_palindrome():
    reverse = paper_task("reverse")
    assert reverse.answers["kayak"] == "kayak"  # reverse is the identity on it
    assert ambiguous_queries("spell_out", "reverse_spaced", reverse.test_inputs) == ["kayak"]
    assert ambiguous_queries("uppercase", "reverse", reverse.test_inputs) == []
