"""Word data shipped inside the package (``icl_core/tasks/data/*.txt``).

Contract: every loader reads only package data (never the network or ``/work/shared``), skips
blank lines and lines starting with ``#``, and raises :class:`ICLClaimsError` naming the file and
line for a malformed entry. Results are cached and returned as immutable/copied containers.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from icl_core.errors import ICLClaimsError

WORDS_FILE = "words.txt"
SENTIMENT_FILE = "sentiment.txt"
ANTONYMS_FILE = "antonyms.txt"
SENTIMENT_LABELS = ("positive", "negative")


def data_text(name: str) -> str:
    """Text of the package data file ``data/<name>``."""
    return resources.files("icl_core.tasks").joinpath("data", name).read_text(encoding="utf-8")


def _entries(name: str) -> list[tuple[int, str]]:
    """(line number, stripped line) of every non-blank, non-comment line."""
    out = []
    for number, raw in enumerate(data_text(name).splitlines(), start=1):
        line = raw.strip()
        if line and not line.startswith("#"):
            out.append((number, line))
    return out


def _is_word(word: str) -> bool:
    return word.isascii() and word.isalpha() and word.islower()


def _bad(name: str, number: int, why: str) -> ICLClaimsError:
    return ICLClaimsError(f"data/{name}, line {number}: {why}")


@cache
def common_words() -> tuple[str, ...]:
    """The common-word list, in file order, without duplicates (one lowercase word per line)."""
    seen: dict[str, None] = {}
    for number, line in _entries(WORDS_FILE):
        if not _is_word(line):
            raise _bad(WORDS_FILE, number, f"{line!r} is not one lowercase ASCII word")
        seen.setdefault(line, None)
    return tuple(seen)


def _pairs(name: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for number, line in _entries(name):
        parts = line.split("\t")
        if len(parts) != 2 or not all(_is_word(p) for p in parts):
            raise _bad(name, number, f"expected 'word<TAB>word', got {line!r}")
        if parts[0] in out:
            raise _bad(name, number, f"{parts[0]!r} appears twice")
        out[parts[0]] = parts[1]
    return out


@cache
def _sentiment() -> dict[str, str]:
    lexicon = _pairs(SENTIMENT_FILE)
    for word, label in lexicon.items():
        if label not in SENTIMENT_LABELS:
            raise ICLClaimsError(f"data/{SENTIMENT_FILE}: {word!r} has label {label!r}")
    return lexicon


def sentiment_lexicon() -> dict[str, str]:
    """word -> "positive" | "negative" (a fresh copy)."""
    return dict(_sentiment())


@cache
def _antonyms() -> dict[str, str]:
    return _pairs(ANTONYMS_FILE)


def antonym_pairs() -> dict[str, str]:
    """word -> its antonym, in file order (a fresh copy); the map is one-to-one."""
    return dict(_antonyms())
