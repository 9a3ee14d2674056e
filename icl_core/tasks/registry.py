"""The registry of tasks: the paper's eight and the ablation variants, built from their definitions.

Contract: names are unique; ``get_task`` returns the same object for a name every call and raises
:class:`UnknownNameError` listing the valid names otherwise. String tasks draw words of
``pools.STRING_LENGTHS`` letters, length tasks ``pools.LENGTH_LENGTHS`` letters, so no task's
answer is constant over its pools.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from icl_core.errors import UnknownNameError
from icl_core.tasks import answers as a
from icl_core.tasks import lexicon, pools
from icl_core.tasks.task import Task

PAPER_TASKS: tuple[str, ...] = (
    "uppercase",
    "first_letter",
    "repeat_word",
    "length",
    "linear_2x",
    "sentiment",
    "antonym",
    "pattern_completion",
)
ABLATION_TASKS: tuple[str, ...] = (
    "uppercase_period",
    "length_word",
    "repeat_comma",
    "reverse",
    "reverse_spaced",
    "sentiment_goodbad",
    "sentiment_plusminus",
    "repeat_n",
    "spell_out",
)

_WORD_RULE = "inputs: lowercase ASCII words"


def _string_task(name: str, description: str, fn: Callable[[str], str]) -> Task:
    demo, query = pools.split_pool(pools.words_between(*pools.STRING_LENGTHS))
    lo, hi = pools.STRING_LENGTHS
    return Task(
        name,
        "procedural",
        f"{description}; {_WORD_RULE}, pools of {lo}-{hi} letters",
        demo,
        query,
        fn,
        a.is_word,
    )


def _length_task(name: str, description: str, fn: Callable[[str], str]) -> Task:
    demo, query = pools.split_pool(pools.words_between(*pools.LENGTH_LENGTHS))
    lo, hi = pools.LENGTH_LENGTHS
    return Task(
        name,
        "numeric",
        f"{description}; inputs: lowercase ASCII words of at most {a.MAX_NUMBER_WORD} letters, "
        f"pools of {lo}-{hi} letters so the answer varies",
        demo,
        query,
        fn,
        a.is_short_word,
    )


def _sentiment_task(name: str, labels: tuple[str, str], description: str) -> Task:
    lexicon_map = lexicon.sentiment_lexicon()
    relabel = dict(zip(lexicon.SENTIMENT_LABELS, labels, strict=True))
    demo, query = pools.split_pool(lexicon_map)
    return Task(
        name,
        "semantic",
        f"{description}; inputs: the words of data/sentiment.txt only",
        demo,
        query,
        lambda x: relabel[lexicon_map[x]],
        lambda x: x in lexicon_map,
    )


def _antonym_task() -> Task:
    pairs = lexicon.antonym_pairs()
    demo, query = pools.split_pool(pairs)
    return Task(
        "antonym",
        "semantic",
        "the antonym of the word ('hot' -> 'cold'); inputs: first words of data/antonyms.txt only",
        demo,
        query,
        pairs.__getitem__,
        lambda x: x in pairs,
    )


def _build() -> dict[str, Task]:
    integer_demo, integer_query = pools.split_pool(pools.integer_inputs())
    pattern_demo, pattern_query = pools.split_pool(pools.pattern_inputs())
    lo, hi = pools.INTEGER_RANGE
    tasks = [
        _string_task("uppercase", "the word in capitals ('apple' -> 'APPLE')", str.upper),
        _string_task("first_letter", "the first letter ('apple' -> 'a')", lambda x: x[0]),
        _string_task(
            "repeat_word",
            "the word twice, space-separated ('apple' -> 'apple apple')",
            lambda x: f"{x} {x}",
        ),
        _length_task(
            "length",
            "the number of letters as decimal digits ('apple' -> '5')",
            lambda x: str(len(x)),
        ),
        Task(
            "linear_2x",
            "numeric",
            f"twice the integer, in decimal ('7' -> '14'); inputs: canonical integer strings, "
            f"pools {lo}-{hi}",
            integer_demo,
            integer_query,
            a.double,
            a.is_integer,
        ),
        _sentiment_task(
            "sentiment", ("positive", "negative"), "the polarity, 'positive' or 'negative'"
        ),
        _antonym_task(),
        Task(
            "pattern_completion",
            "procedural",
            "the next symbol of an alternating pattern ('A B A B A' -> 'B'); inputs: 5 "
            "single-space-separated symbols alternating two distinct symbols; pools: single "
            "letters or digits of one class",
            pattern_demo,
            pattern_query,
            a.pattern_next,
            a.is_alternating_pattern,
        ),
        _string_task(
            "uppercase_period",
            "uppercase followed by a full stop ('apple' -> 'APPLE.')",
            lambda x: f"{x.upper()}.",
        ),
        _length_task(
            "length_word",
            "the number of letters as an English word ('apple' -> 'five', 21 -> 'twenty-one')",
            lambda x: a.number_word(len(x)),
        ),
        _string_task(
            "repeat_comma",
            "the word twice, joined by ', ' ('apple' -> 'apple, apple')",
            lambda x: f"{x}, {x}",
        ),
        _string_task(
            "reverse", "the letters in reverse order ('apple' -> 'elppa')", lambda x: x[::-1]
        ),
        _string_task(
            "reverse_spaced",
            "the letters in reverse order, separated by single spaces ('apple' -> 'e l p p a')",
            lambda x: " ".join(reversed(x)),
        ),
        _sentiment_task(
            "sentiment_goodbad",
            ("good", "bad"),
            "the polarity as 'good' (positive) or 'bad' (negative)",
        ),
        _sentiment_task(
            "sentiment_plusminus", ("+", "-"), "the polarity as '+' (positive) or '-' (negative)"
        ),
        _string_task(
            "repeat_n",
            "the word three times, space-separated ('apple' -> 'apple apple apple')",
            lambda x: " ".join([x] * 3),
        ),
        _string_task(
            "spell_out", "the letters separated by single spaces ('apple' -> 'a p p l e')", " ".join
        ),
    ]
    registry = {t.name: t for t in tasks}
    assert tuple(registry) == PAPER_TASKS + ABLATION_TASKS, "registry out of sync with the names"
    return registry


@cache
def _registry() -> dict[str, Task]:
    return _build()


def task_names() -> list[str]:
    """All task names: the paper's eight, then the ablation variants."""
    return list(PAPER_TASKS + ABLATION_TASKS)


def get_task(name: str) -> Task:
    """The task called ``name``; UnknownNameError("task", name, valid names) otherwise."""
    registry = _registry()
    if name not in registry:
        raise UnknownNameError("task", name, registry)
    return registry[name]


def resolve_task(task: Task | str) -> Task:
    """A Task given itself or its registry name."""
    return task if isinstance(task, Task) else get_task(task)
