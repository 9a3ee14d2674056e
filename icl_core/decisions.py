"""Three-way statistical decisions used by every claim (thresholds are the callers').

"Zero" claims (a rate is at most `margin`): holds iff every cell's one-sided 95% Clopper-Pearson
upper bound is <= margin (an intersection-union test: no multiplicity penalty is needed for
"holds everywhere"); refuted iff some cell is significantly above the margin after Holm
correction across the cells (one-sided exact binomial tests); otherwise inconclusive.
"High" claims (a rate is at least `threshold`): holds iff every cell's Wilson 95% lower bound
is >= threshold; refuted iff some cell is significantly below it after Holm; else inconclusive.
Cells with no valid trial make a decision inconclusive, never silently pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from icl_core.records import Cell
from icl_core.stats import (
    binom_test_greater,
    binom_test_less,
    clopper_pearson_upper,
    holm,
    wilson_bound,
)

HOLDS, REFUTED, INCONCLUSIVE = "holds", "refuted", "inconclusive"


@dataclass(frozen=True)
class Decision:
    """`status` and the cell that decided it (the worst cell), with a one-line reason."""

    status: str
    reason: str
    worst: Cell | None = None


def _empty(cells: Sequence[Cell]) -> Decision | None:
    if not cells:
        return Decision(INCONCLUSIVE, "no cells to decide on")
    empty = [c for c in cells if c.n == 0]
    if empty:
        return Decision(INCONCLUSIVE, f"{len(empty)} cell(s) with zero valid trials, e.g. "
                        f"{empty[0]} excluded {empty[0].excluded}", empty[0])  # fmt: skip
    return None


def at_most(cells: Sequence[Cell], margin: float, alpha: float = 0.05) -> Decision:
    """Zero claim over `cells` (see module docstring)."""
    if (d := _empty(cells)) is not None:
        return d
    uppers = [clopper_pearson_upper(c.k, c.n, 1 - alpha) for c in cells]
    worst = max(range(len(cells)), key=lambda i: (uppers[i], cells[i].rate))
    reject, adjusted = holm([binom_test_greater(c.k, c.n, margin) for c in cells], alpha)
    if reject.any():
        i = max(range(len(cells)), key=lambda i: (reject[i], -adjusted[i]))
        return Decision(REFUTED, f"{cells[i]} is above {margin:.0%} (Holm-adjusted p = "
                        f"{adjusted[i]:.3g} over {len(cells)} cells)", cells[i])  # fmt: skip
    if uppers[worst] <= margin:
        return Decision(HOLDS, f"every one of {len(cells)} cells has a 95% upper bound <= "
                        f"{margin:.0%}; the largest is {uppers[worst]:.1%} at {cells[worst]}",
                        cells[worst])  # fmt: skip
    return Decision(INCONCLUSIVE, f"{cells[worst]} has a 95% upper bound of {uppers[worst]:.1%} "
                    f"> {margin:.0%} but is not significantly above it: more trials needed",
                    cells[worst])  # fmt: skip


def at_least(cells: Sequence[Cell], threshold: float, alpha: float = 0.05) -> Decision:
    """High claim over `cells` (see module docstring)."""
    if (d := _empty(cells)) is not None:
        return d
    lowers = [wilson_bound(c.k, c.n, 1 - alpha / 2, "lower") for c in cells]
    worst = min(range(len(cells)), key=lambda i: (lowers[i], cells[i].rate))
    reject, adjusted = holm([binom_test_less(c.k, c.n, threshold) for c in cells], alpha)
    if reject.any():
        i = max(range(len(cells)), key=lambda i: (reject[i], -adjusted[i]))
        return Decision(REFUTED, f"{cells[i]} is below {threshold:.0%} (Holm-adjusted p = "
                        f"{adjusted[i]:.3g} over {len(cells)} cells)", cells[i])  # fmt: skip
    if lowers[worst] >= threshold:
        return Decision(HOLDS, f"every one of {len(cells)} cells has a 95% lower bound >= "
                        f"{threshold:.0%}; the smallest is {lowers[worst]:.1%} at {cells[worst]}",
                        cells[worst])  # fmt: skip
    return Decision(INCONCLUSIVE, f"{cells[worst]} has a 95% lower bound of {lowers[worst]:.1%} "
                    f"< {threshold:.0%} but is not significantly below it: more trials needed",
                    cells[worst])  # fmt: skip


def combine(*decisions: Decision) -> Decision:
    """All parts must hold; any refuted part refutes; else inconclusive (first such part)."""
    for status in (REFUTED, INCONCLUSIVE):
        for d in decisions:
            if d.status == status:
                return d
    return Decision(HOLDS, "; ".join(d.reason for d in decisions),
                    decisions[0].worst if decisions else None)  # fmt: skip
