"""Task definitions, word data and the strict scorer (SPEC 5.1)."""

from __future__ import annotations

import string
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from icl_core.errors import InvalidChoiceError, UnknownNameError
from icl_core.tasks import ABLATION_TASKS, PAPER_TASKS, REGIMES, Task, get_task, lexicon, task_names
from icl_core.tasks.answers import number_word

ALL = task_names()
STRING_TASKS = [
    "uppercase",
    "first_letter",
    "repeat_word",
    "uppercase_period",
    "repeat_comma",
    "reverse",
    "reverse_spaced",
    "repeat_n",
    "spell_out",
]
LENGTH_TASKS = ["length", "length_word"]

words = st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=30)


def answer(name: str, x: str) -> str:
    return get_task(name).answer(x)


# --- registry ---------------------------------------------------------------------------------


def test_names_are_the_papers_eight_then_the_variants():
    assert PAPER_TASKS == (
        "uppercase",
        "first_letter",
        "repeat_word",
        "length",
        "linear_2x",
        "sentiment",
        "antonym",
        "pattern_completion",
    )
    assert len(ABLATION_TASKS) == 9
    assert task_names() == list(PAPER_TASKS + ABLATION_TASKS)
    assert len(set(ALL)) == len(ALL)
    assert [get_task(n).name for n in ALL] == ALL


def test_unknown_task_names_the_valid_ones():
    with pytest.raises(UnknownNameError) as info:
        get_task("upper_case")
    message = str(info.value)
    assert "upper_case" in message and "uppercase" in message and "spell_out" in message
    assert isinstance(info.value, KeyError)


@pytest.mark.parametrize(
    ("name", "x", "expected"),
    [
        ("uppercase", "apple", "APPLE"),
        ("first_letter", "apple", "a"),
        ("repeat_word", "apple", "apple apple"),
        ("length", "apple", "5"),
        ("length", "elephant", "8"),
        ("linear_2x", "7", "14"),
        ("linear_2x", "-3", "-6"),
        ("sentiment", "joyful", "positive"),
        ("sentiment", "terrible", "negative"),
        ("antonym", "hot", "cold"),
        ("pattern_completion", "A B A B A", "B"),
        ("pattern_completion", "1 2 1 2 1", "2"),
        ("uppercase_period", "apple", "APPLE."),
        ("length_word", "apple", "five"),
        ("length_word", "strawberry", "ten"),
        ("repeat_comma", "apple", "apple, apple"),
        ("reverse", "apple", "elppa"),
        ("reverse_spaced", "apple", "e l p p a"),
        ("sentiment_goodbad", "joyful", "good"),
        ("sentiment_goodbad", "terrible", "bad"),
        ("sentiment_plusminus", "joyful", "+"),
        ("sentiment_plusminus", "terrible", "-"),
        ("repeat_n", "apple", "apple apple apple"),
        ("spell_out", "apple", "a p p l e"),
    ],
)
def test_definitions(name, x, expected):
    assert answer(name, x) == expected


@pytest.mark.parametrize(
    ("name", "x"),
    [
        ("uppercase", "Apple"),
        ("uppercase", "36"),
        ("uppercase", ""),
        ("spell_out", "two words"),
        ("length", "café"),
        ("linear_2x", "apple"),
        ("linear_2x", "007"),
        ("linear_2x", "1.5"),
        ("linear_2x", " 7"),
        ("sentiment", "table"),
        ("sentiment_goodbad", "table"),
        ("antonym", "table"),
        ("antonym", "cold"),  # only the first word of a pair is an input
        ("pattern_completion", "A B A B B"),
        ("pattern_completion", "A A A A A"),
        ("pattern_completion", "A B A B"),
        ("pattern_completion", "A  B A B A"),
        ("pattern_completion", "apple"),
    ],
)
def test_answer_undefined_outside_accepted_inputs(name, x):
    task = get_task(name)
    assert not task.accepts(x)
    with pytest.raises(InvalidChoiceError, match=name):
        task.answer(x)
    with pytest.raises(InvalidChoiceError):
        task.score("anything", x)


# --- every task ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL)
def test_pools_disjoint_accepted_and_answered(name):
    task = get_task(name)
    assert task.regime in REGIMES
    assert task.description
    assert not set(task.demo_pool) & set(task.query_pool)
    for x in task.demo_pool + task.query_pool:
        assert task.accepts(x)
        assert task.score(task.answer(x), x)


@pytest.mark.parametrize("name", ALL)
def test_pools_are_large(name):
    task = get_task(name)
    assert len(task.demo_pool) >= 90
    assert len(task.query_pool) >= 40
    assert list(task.demo_pool) == sorted(task.demo_pool)


@pytest.mark.parametrize("name", ALL)
def test_no_task_is_constant(name):
    task = get_task(name)
    for pool in (task.demo_pool, task.query_pool):
        assert len({task.answer(x) for x in pool}) > 1


@pytest.mark.parametrize("name", ALL)
def test_score_reads_the_first_line_only(name):
    task = get_task(name)
    for x in task.query_pool[:20]:
        ans = task.answer(x)
        assert task.score(ans, x)
        assert task.score(f"  {ans}  ", x)
        assert task.score(f" {ans}\n", x)
        assert task.score(f"{ans}\n\nInput: {x}\nOutput: {ans}", x)
        assert task.score(f"{ans}\r\nmore", x)
        assert not task.score(f"\n{ans}", x)  # the first line is empty
        assert not task.score(f"Output: {ans}", x)


@pytest.mark.parametrize("name", ALL)
def test_score_rejects_wrong_and_padded_answers(name):
    task = get_task(name)
    x = task.query_pool[0]
    ans = task.answer(x)
    other = next(task.answer(q) for q in task.query_pool if task.answer(q) != ans)
    for wrong in (other, f"{ans}.", f"{ans} {ans}", f"{ans}x", f"x{ans}", f'"{ans}"', "", ans[:-1]):
        if wrong != ans:
            assert not task.score(wrong, x), wrong


@pytest.mark.parametrize("name", STRING_TASKS)
def test_string_tasks_draw_four_to_eight_letters(name):
    task = get_task(name)
    for pool in (task.demo_pool, task.query_pool):
        lengths = Counter(len(x) for x in pool)
        assert set(lengths) == set(range(4, 9))
        assert min(lengths.values()) >= 10


@pytest.mark.parametrize("name", LENGTH_TASKS)
def test_length_tasks_draw_three_to_ten_letters(name):
    task = get_task(name)
    for pool in (task.demo_pool, task.query_pool):
        assert {len(x) for x in pool} == set(range(3, 11))
        assert len({task.answer(x) for x in pool}) == 8


def test_sentiment_variants_relabel_the_same_lexicon():
    base, goodbad, plusminus = (
        get_task(n) for n in ("sentiment", "sentiment_goodbad", "sentiment_plusminus")
    )
    assert base.demo_pool == goodbad.demo_pool == plusminus.demo_pool
    assert base.query_pool == goodbad.query_pool == plusminus.query_pool
    relabel = {"positive": ("good", "+"), "negative": ("bad", "-")}
    for x in base.demo_pool + base.query_pool:
        assert (goodbad.answer(x), plusminus.answer(x)) == relabel[base.answer(x)]


# --- Task contract ------------------------------------------------------------------------------


def _task(demo, query, regime="procedural"):
    return Task("toy", regime, "toy task", demo, query, str.upper, str.isalpha)


def test_task_rejects_overlapping_pools():
    with pytest.raises(InvalidChoiceError, match="share"):
        _task(("apple", "brain"), ("brain", "cloud"))


def test_task_rejects_unaccepted_pool_items_bad_regime_and_empty_pools():
    with pytest.raises(InvalidChoiceError, match="does not accept"):
        _task(("apple", "b4d"), ("cloud",))
    with pytest.raises(InvalidChoiceError, match="regime"):
        _task(("apple",), ("cloud",), regime="magic")
    with pytest.raises(InvalidChoiceError, match="non-empty"):
        _task((), ("cloud",))
    with pytest.raises(InvalidChoiceError, match="duplicates"):
        _task(("apple", "apple"), ("cloud",))


def test_task_is_frozen():
    with pytest.raises(AttributeError):
        get_task("uppercase").name = "x"  # type: ignore[misc]


# --- word data ----------------------------------------------------------------------------------


def test_common_words():
    words_ = lexicon.common_words()
    assert len(words_) >= 600
    assert all(w.isascii() and w.isalpha() and w.islower() for w in words_)
    lengths = Counter(len(w) for w in words_)
    assert set(lengths) == set(range(3, 11))
    assert all(lengths[n] >= 60 for n in range(4, 9))
    assert sum(lengths[n] for n in range(4, 9)) >= 500


def test_sentiment_lexicon_is_balanced():
    labels = Counter(lexicon.sentiment_lexicon().values())
    assert set(labels) == {"positive", "negative"}
    assert labels["positive"] == labels["negative"] >= 50


def test_antonym_pairs_are_one_to_one():
    pairs = lexicon.antonym_pairs()
    assert len(pairs) >= 80
    every_word = list(pairs) + list(pairs.values())
    assert len(set(every_word)) == len(every_word), "a word appears in two pairs"
    assert all(a != b for a, b in pairs.items())


def test_loaders_return_copies():
    lexicon.sentiment_lexicon()["zzz"] = "positive"
    lexicon.antonym_pairs()["zzz"] = "yyy"
    assert "zzz" not in lexicon.sentiment_lexicon()
    assert "zzz" not in lexicon.antonym_pairs()


# --- properties ---------------------------------------------------------------------------------


@given(words)
def test_reverse_is_an_involution(x):
    once = answer("reverse", x)
    assert answer("reverse", once) == x
    assert sorted(once) == sorted(x)


@given(words)
def test_spelled_forms(x):
    assert answer("spell_out", x).split(" ") == list(x)
    assert answer("reverse_spaced", x) == answer("spell_out", answer("reverse", x))
    assert answer("reverse_spaced", x).replace(" ", "") == x[::-1]


@given(words)
def test_repetitions(x):
    assert answer("repeat_word", x).split(" ") == [x, x]
    assert answer("repeat_n", x).split(" ") == [x, x, x]
    assert answer("repeat_comma", x).split(", ") == [x, x]


@given(words)
def test_case_letter_and_length(x):
    assert answer("uppercase", x).lower() == x
    assert answer("uppercase_period", x) == answer("uppercase", x) + "."
    assert answer("first_letter", x) == x[0]
    assert int(answer("length", x)) == len(x)
    assert answer("length_word", x) == number_word(len(x))


def test_number_words():
    assert [number_word(n) for n in (0, 3, 10, 13, 20, 21, 45, 99)] == [
        "zero",
        "three",
        "ten",
        "thirteen",
        "twenty",
        "twenty-one",
        "forty-five",
        "ninety-nine",
    ]
    assert len({number_word(n) for n in range(100)}) == 100
    with pytest.raises(ValueError):
        number_word(100)


@given(words, st.text())
def test_score_ignores_everything_after_the_first_newline(x, tail):
    for name in ("uppercase", "reverse", "spell_out", "length"):
        assert get_task(name).score(answer(name, x) + "\n" + tail, x)


@given(st.integers(min_value=-(10**9), max_value=10**9))
def test_linear_2x_doubles_any_integer(n):
    task = get_task("linear_2x")
    assert task.accepts(str(n))
    assert int(task.answer(str(n))) == 2 * n


symbols = st.characters(blacklist_categories=("Zs", "Zl", "Zp", "Cc", "Cs"))


@given(symbols, symbols)
def test_pattern_completion_answers_the_second_symbol(a, b):
    task = get_task("pattern_completion")
    x = f"{a} {b} {a} {b} {a}"
    if a == b:
        assert not task.accepts(x)
    else:
        assert task.answer(x) == b
        assert not task.accepts(f"{a} {b} {a} {b} {b}")
