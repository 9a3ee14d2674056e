"""Input universes of the tasks and their deterministic demo/query split.

Contract: the split is a fixed function of the item alone (SHA-256 of ``SPLIT_SEED`` and the item),
so an item lies on the same side (demo or query) for every task that accepts it. Demo and query
pools are therefore disjoint within a task AND across tasks, and the pools of two tasks intersect
as much as their input sets allow (this is what paired, shared-input prompts draw from).
Pools are sorted tuples, so sampling from them is reproducible.
"""

from __future__ import annotations

import hashlib
import string
from collections.abc import Iterable
from functools import cache

from icl_core.tasks import lexicon

SPLIT_SEED = 20260506
QUERY_SHARE = 3  # one item in QUERY_SHARE (in expectation) goes to the query pool
STRING_LENGTHS = (4, 8)  # inclusive letter range of the string tasks
LENGTH_LENGTHS = (3, 10)  # inclusive letter range of length / length_word
INTEGER_RANGE = (1, 199)  # inclusive range of linear_2x inputs (the paper used 1-60)


def is_query_item(item: str) -> bool:
    """Whether ``item`` belongs to the query side of the fixed split."""
    digest = hashlib.sha256(f"{SPLIT_SEED}:{item}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % QUERY_SHARE == 0


def split_pool(items: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(demo pool, query pool): sorted, de-duplicated, disjoint."""
    unique = sorted(set(items))
    demo = tuple(x for x in unique if not is_query_item(x))
    query = tuple(x for x in unique if is_query_item(x))
    return demo, query


@cache
def word_universe() -> tuple[str, ...]:
    """Every word the package data holds: common words, sentiment words, antonym pairs."""
    words = set(lexicon.common_words())
    words.update(lexicon.sentiment_lexicon())
    for word, antonym in lexicon.antonym_pairs().items():
        words.update((word, antonym))
    return tuple(sorted(words))


def words_between(lo: int, hi: int) -> tuple[str, ...]:
    """Words of ``lo`` to ``hi`` letters (inclusive) from :func:`word_universe`."""
    return tuple(w for w in word_universe() if lo <= len(w) <= hi)


def pattern_inputs() -> tuple[str, ...]:
    """'a b a b a' patterns over two distinct symbols of one class (lower, upper, digits)."""
    out = []
    for alphabet in (string.ascii_lowercase, string.ascii_uppercase, string.digits):
        for a in alphabet:
            for b in alphabet:
                if a != b:
                    out.append(f"{a} {b} {a} {b} {a}")
    return tuple(out)


def integer_inputs() -> tuple[str, ...]:
    """Decimal strings of the integers in ``INTEGER_RANGE``."""
    lo, hi = INTEGER_RANGE
    return tuple(str(n) for n in range(lo, hi + 1))
