"""Three-way, anytime-valid decisions on cells of trials (issue 13; thresholds are the callers').

Every rule here is an e-value test (`icl_core.stats.sequential`), so its error bound holds
whatever the stopping rule: trials may be drawn in rounds for the cells still `open`, after
looking at the outcomes, until a decision is reached or a cap. Error control, per rule:
- "every cell" (holds for a zero / high claim): every cell's e-value for the claim's side
  reaches `choices`/alpha (intersection-union: P(wrongly holds) <= alpha; `choices` > 1 when
  the cells were picked among several, e.g. a best layer: Bonferroni over the choices);
- "some cell" (refutes): one cell's e-value against the claim reaches `parts` x cells / alpha
  (Bonferroni over the cells and over the `parts` of a conjunction: P(wrongly refuted)
  <= alpha / parts, so a claim of `parts` parts refutes wrongly with probability <= alpha).
Cells with no valid trial keep a decision open, never silently pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from icl_core.records import Cell
from icl_core.stats.sequential import rate_e_values, rate_projected_trials

HOLDS, REFUTED, INCONCLUSIVE = "holds", "refuted", "inconclusive"
ALPHA = 0.05


@dataclass(frozen=True)
class Decision:
    """`status` with a one-line reason; `worst`: the cell that decided it (or is furthest from
    deciding); `open`: cells whose e-values reached neither threshold (where more trials
    help); `e_values`: the deciding e-values by name; `projected`: further counted trials the
    slowest open cell needs at its observed rate (None: unknown, or the data point the other
    way); `toward`: the status that projection leads to (HOLDS or REFUTED; None: unknown);
    `draw`: the open cells a further round needs: where some open cell points to a refutation
    (one cell decides it), only the cell nearest to it; else every open cell."""

    status: str
    reason: str
    worst: Cell | None = None
    open: tuple[Cell, ...] = ()
    e_values: dict[str, float] = field(default_factory=dict)
    projected: int | None = None
    toward: str | None = None
    draw: tuple[Cell, ...] = ()


def _threshold(cells: Sequence[Cell], margin: float, side: str, alpha: float, choices: int,
               parts: int) -> Decision:  # fmt: skip
    """Shared rule of at_most (side "below") and at_least (side "above")."""
    if not cells:
        return Decision(INCONCLUSIVE, "no cells to decide on")
    hold_at, refute_at = choices / alpha, parts * len(cells) / alpha
    tests = []
    for c in cells:
        below, above = rate_e_values(c.k, c.n, margin)
        tests.append((c, below, above) if side == "below" else (c, above, below))
    word, other = ("<=", ">") if side == "below" else (">=", "<")
    refuting = [t for t in tests if t[2] >= refute_at]
    if refuting:
        c, _, e = max(refuting, key=lambda t: t[2])
        return Decision(REFUTED, f"{c} is {other} {margin:.0%} (e = {e:.3g} >= {refute_at:.3g}"
                        f" = {parts} x {len(cells)} cells / {alpha})", c,
                        e_values={"refute": e, "threshold": refute_at})  # fmt: skip
    open_ = tuple(c for c, e_hold, _ in tests if e_hold < hold_at)
    c, e_min, _ = min(tests, key=lambda t: (t[1], -t[0].n))
    if not open_:
        return Decision(HOLDS, f"every one of {len(cells)} cells is {word} {margin:.0%}: the "
                        f"smallest e-value is {e_min:.3g} >= {hold_at:.3g} at {c}", c,
                        e_values={"holds_min": e_min, "threshold": hold_at})  # fmt: skip
    projected, more, toward, draw = _projection(open_, margin, side, hold_at, refute_at)
    empty = sum(1 for o in open_ if o.n == 0)
    return Decision(INCONCLUSIVE, f"{len(open_)} of {len(cells)} cells undecided"
                    f"{f' ({empty} with no valid trial)' if empty else ''}; furthest: {c}, "
                    f"e = {e_min:.3g} < {hold_at:.3g}: {more}", c, open_,
                    {"holds_min": e_min, "threshold": hold_at}, projected, toward,
                    draw)  # fmt: skip


def _projection(
    open_: Sequence[Cell], margin: float, side: str, hold_at: float, refute_at: float
) -> tuple[int | None, str, str | None, tuple[Cell, ...]]:
    """Further counted trials an undecided rule needs if each open cell keeps its observed
    rate: where some open cell points to a refutation, the fewest any such cell needs to
    refute; else the most any open cell needs to hold; None where a cell has no trial or
    points neither way (its rate so near the margin that no bet of the grid gains on either
    side). With the phrase for the verdict's reason, the status it leads to and the cells to
    draw (`Decision.draw`; ties: the cell with more trials, then the first)."""
    other = "above" if side == "below" else "below"
    refute = [
        (x, -o.n, i)
        for i, o in enumerate(open_)
        if (x := rate_projected_trials(o.k, o.n, margin, refute_at, other)) is not None
    ]
    if refute:
        n, _, i = min(refute)
        phrase = f"about {n} more counted trials in the cell nearest to a refutation needed"
        return n, phrase, REFUTED, (open_[i],)
    hold = [rate_projected_trials(o.k, o.n, margin, hold_at, side) for o in open_]
    if hold and None not in hold:
        n = max(hold)  # type: ignore[type-var]
        return n, f"about {n} more counted trials needed", HOLDS, tuple(open_)
    if any(o.n == 0 for o in open_):
        return None, "more trials needed", None, tuple(open_)
    phrase = ("no projection: an open cell's rate is so near the margin that no bet of the "
              "e-value gains either way (it may stay undecided at any N)")  # fmt: skip
    return None, phrase, None, tuple(open_)


def at_most(cells: Sequence[Cell], margin: float, alpha: float = ALPHA, choices: int = 1,
            parts: int = 1) -> Decision:  # fmt: skip
    """Zero claim: every cell's rate is at most `margin` (module docstring)."""
    return _threshold(cells, margin, "below", alpha, choices, parts)


def at_least(cells: Sequence[Cell], threshold: float, alpha: float = ALPHA, choices: int = 1,
             parts: int = 1) -> Decision:  # fmt: skip
    """High claim: every cell's rate is at least `threshold` (module docstring)."""
    return _threshold(cells, threshold, "above", alpha, choices, parts)


def combine(*decisions: Decision) -> Decision:
    """A conjunction: holds iff every part holds; refuted iff a part is refuted; else
    inconclusive (every part's open cells), projecting the fewest trials any undecided part
    needs toward a refutation (one refuted part refutes the whole; that part's reason), else
    the most every undecided part needs to hold (None if one is unknown; the first undecided
    part's reason); `draw`: that refuting part's, else every undecided part's. Valid at alpha
    only if each part was built with `parts=len(decisions)` (its refutation at alpha / parts)."""
    for d in decisions:
        if d.status == REFUTED:
            return d
    open_ = tuple(c for d in decisions for c in d.open)
    undecided = [x for x in decisions if x.status == INCONCLUSIVE]
    if undecided:
        d = undecided[0]
        refuting = [x for x in undecided if x.toward == REFUTED and x.projected is not None]
        if refuting:  # the reason of the part nearest to refuting the whole
            d = min(refuting, key=lambda x: x.projected)  # type: ignore[arg-type, return-value]
            worst, toward, draw = d.projected, REFUTED, d.draw
        else:
            projected = [x.projected for x in undecided]
            worst = None if None in projected else max(projected)  # type: ignore[type-var]
            toward = None if worst is None else HOLDS
            draw = tuple(c for x in undecided for c in x.draw)
        return Decision(INCONCLUSIVE, d.reason, d.worst, open_, d.e_values, worst, toward, draw)
    return Decision(HOLDS, "; ".join(d.reason for d in decisions),
                    decisions[0].worst if decisions else None)  # fmt: skip
