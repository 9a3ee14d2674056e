"""What every claim rule shares: the thresholds (fixed before any run) and the verdict record."""

from __future__ import annotations

from collections.abc import Sequence

from icl_core.decisions import (
    Decision,
)
from icl_core.records import Cell, Verdict

ZERO_MARGIN = 0.10  # C1, C2 (input_only), C8 (1-3 demos), C9


HIGH_TRANSFER = 0.5  # C2, C8 (5 demos)


DEPTH_WINDOW = (0.2, 0.4)  # C3


DEPTH_DELTA = 0.15  # C3: "near the best" = within 15 points of transfer of every layer


QUERY_DISRUPTION = 0.5  # C5: noise at the query disrupts >= 50% in the first half of depth


DEMO_DISRUPTION = 0.10  # C5: noise at any single demo output token disrupts <= 10%


PROBE_ACCURACY = 0.95  # C6


MIN_MATRIX_TRIALS = 15  # C10: counted trials a pair needs before it is tested (80% power at 10%)


def _verdict(claim: str, model: str, protocol: str, d: Decision, **details) -> Verdict:
    details.update(e_values=d.e_values, projected_trials=d.projected)
    return Verdict(claim, model, protocol, d.status, d.reason, "", details, d.open)


def _select(cells: Sequence[Cell], **where) -> list[Cell]:
    return [c for c in cells if all(getattr(c, k) == v for k, v in where.items())]


def pair_name(pair: tuple[str, str]) -> str:
    return f"{pair[0]}->{pair[1]}"


def best_cell(cells: Sequence[Cell], pair: str, position_set: str = "all_demo") -> Cell | None:
    """The layer with the highest rate (ties: lowest layer) among cells with valid trials
    (a description: rules never test it as if it were fixed)."""
    rows = [c for c in _select(cells, pair=pair, position_set=position_set) if c.n]
    return max(rows, key=lambda c: (c.rate, -c.layer)) if rows else None


def _by_layer(cells: Sequence[Cell], pair: str, position_set: str) -> dict[int, Cell]:
    return {c.layer: c for c in _select(cells, pair=pair, position_set=position_set)}
