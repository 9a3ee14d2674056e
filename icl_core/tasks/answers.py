"""Answer functions and input predicates of the tasks, as pure functions of one input string.

Contract: an answer function is only called on inputs its predicate accepts (``Task.answer``
enforces this); predicates never raise.
"""

from __future__ import annotations

import re

_INTEGER = re.compile(r"-?(0|[1-9][0-9]*)")

_UNITS = (
    *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"),
    *("eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen"),
    *("eighteen", "nineteen"),
)
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
MAX_NUMBER_WORD = 99


def is_word(x: str) -> bool:
    """A non-empty lowercase ASCII word (letters only)."""
    return x.isascii() and x.isalpha() and x.islower()


def is_integer(x: str) -> bool:
    """A canonical decimal integer string: optional '-', no leading zeros, no spaces."""
    return _INTEGER.fullmatch(x) is not None


def is_alternating_pattern(x: str) -> bool:
    """Five single-space-separated tokens 'a b a b a' with two distinct whitespace-free symbols."""
    tokens = x.split(" ")
    return (
        len(tokens) == 5
        and all(t and t == t.strip() and not any(c.isspace() for c in t) for t in tokens)
        and tokens[0] == tokens[2] == tokens[4]
        and tokens[1] == tokens[3]
        and tokens[0] != tokens[1]
    )


def pattern_next(x: str) -> str:
    """Next symbol of 'a b a b a': the second symbol, 'b'."""
    return x.split(" ")[1]


def number_word(n: int) -> str:
    """English name of 0 <= n <= 99 ('five', 'twenty-one')."""
    if not 0 <= n <= MAX_NUMBER_WORD:
        raise ValueError(f"number_word covers 0..{MAX_NUMBER_WORD}, got {n}")
    if n < 20:
        return _UNITS[n]
    tens, units = divmod(n, 10)
    return _TENS[tens] if units == 0 else f"{_TENS[tens]}-{_UNITS[units]}"


def is_short_word(x: str) -> bool:
    """A word whose length has an English name from :func:`number_word`."""
    return is_word(x) and len(x) <= MAX_NUMBER_WORD


def double(x: str) -> str:
    """2n as a decimal string."""
    return str(2 * int(x))
