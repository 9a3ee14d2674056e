"""Source -> target position matching by role and offset from the end of the role's span.

Never by absolute index. Where a role has fewer tokens in the source than in the target, the
target's extra leading tokens have no counterpart: they are left unpatched and counted in
`unmatched`. `exact` is True iff every touched role has the same token count in both prompts;
the strict policy keeps only trials whose maps are exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from icl_core.errors import InvalidChoiceError
from icl_core.prompts.layout import Layout


@dataclass(frozen=True)
class PositionMap:
    """target[i] takes the source's state at source[i]. `unmatched`: target positions left out."""

    target: tuple[int, ...]
    source: tuple[int, ...]
    unmatched: tuple[int, ...]
    exact: bool


def map_positions(source: Layout, target: Layout, positions: Sequence[int]) -> PositionMap:
    """Map target `positions` onto the source layout by (role, offset from the span's end)."""
    tgt, src, unmatched = [], [], []
    exact = True
    for p in positions:
        if not 0 <= p < len(target):
            raise InvalidChoiceError(
                f"position {p} is outside the target prompt (0..{len(target) - 1})"
            )
        role = target.roles[p]
        t_span = target.span(role)
        s_span = source.span(role) if source.has(role) else None
        if s_span is None or s_span.n != t_span.n:
            exact = False
        from_end = t_span.end - 1 - p
        if s_span is None or from_end >= s_span.n:
            unmatched.append(p)
            continue
        tgt.append(p)
        src.append(s_span.end - 1 - from_end)
    return PositionMap(tuple(tgt), tuple(src), tuple(unmatched), exact)
