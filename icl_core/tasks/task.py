"""The :class:`Task` type: a named input -> answer map with disjoint demo and query pools."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from icl_core.errors import InvalidChoiceError

REGIMES = ("procedural", "numeric", "semantic")


def first_line(output: str) -> str:
    """The strict answer normalisation, the suite's one home for it: the first line of a model
    output (split on "\\n"), stripped. (The paper protocol's own,
    `papers.cheng2026.protocol.scoring`, strips first.)"""
    return output.split("\n")[0].strip()


@dataclass(frozen=True)
class Task:
    """An ICL task.

    Contract (checked on construction): ``regime`` is one of :data:`REGIMES`; both pools are
    non-empty, duplicate-free and disjoint; every pool item is accepted. ``answer(x)`` is defined
    exactly where ``accepts(x)`` is true and raises :class:`InvalidChoiceError` elsewhere.
    """

    name: str
    regime: str
    description: str
    demo_pool: tuple[str, ...]
    query_pool: tuple[str, ...]
    answer_fn: Callable[[str], str] = field(repr=False, compare=False)
    accepts_fn: Callable[[str], bool] = field(repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.regime not in REGIMES:
            raise InvalidChoiceError(
                f"task {self.name!r}: regime {self.regime!r} not in {', '.join(REGIMES)}"
            )
        for label, pool in (("demo_pool", self.demo_pool), ("query_pool", self.query_pool)):
            if not isinstance(pool, tuple) or not pool:
                raise InvalidChoiceError(f"task {self.name!r}: {label} must be a non-empty tuple")
            if len(set(pool)) != len(pool):
                raise InvalidChoiceError(f"task {self.name!r}: {label} has duplicates")
            rejected = [x for x in pool if not self.accepts_fn(x)]
            if rejected:
                raise InvalidChoiceError(
                    f"task {self.name!r}: {label} holds inputs it does not accept: {rejected[:5]}"
                )
        overlap = set(self.demo_pool) & set(self.query_pool)
        if overlap:
            raise InvalidChoiceError(
                f"task {self.name!r}: demo and query pools share {len(overlap)} inputs, "
                f"e.g. {sorted(overlap)[:5]}"
            )

    def accepts(self, x: str) -> bool:
        """Whether the answer is defined for ``x``."""
        return self.accepts_fn(x)

    def answer(self, x: str) -> str:
        """The correct output for ``x``; InvalidChoiceError if ``x`` is not accepted."""
        if not self.accepts_fn(x):
            raise InvalidChoiceError(
                f"task {self.name!r} has no answer for {x!r} ({self.description})"
            )
        return self.answer_fn(x)

    def score(self, output: str, x: str) -> bool:
        """Strict: ``first_line(output)`` equals answer(x)."""
        return first_line(output) == self.answer(x)
