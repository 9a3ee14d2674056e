"""The claims' decision logic (SPEC 7, issue 13): thresholds and rules fixed here, before any
run, and the verdict of each claim on one model from tidy cells or paired trial records.

Error control: every rule is an e-value test (`icl_core.decisions`, `icl_core.stats.sequential`)
or a fixed-N exact test, so a verdict errs with probability <= ALPHA in each direction, also
when the suite draws trials in rounds until a rule decides (anytime validity). A choice among
layers (a best layer) is paid for by Bonferroni over the layers. Patching claims read trials
whose clean source prompt was answered correctly (the mechanism, not the model's competence).
Power per rule: claims/README.md. Each claim's statement, paper figure and measurement are
declared in `icl_core.papers.cheng2026.claims`, which calls these rules.
"""

from __future__ import annotations

from icl_core.papers.cheng2026.verdicts.common import (
    DEMO_DISRUPTION,
    DEPTH_DELTA,
    DEPTH_WINDOW,
    HIGH_TRANSFER,
    MIN_MATRIX_TRIALS,
    PROBE_ACCURACY,
    QUERY_DISRUPTION,
    ZERO_MARGIN,
    best_cell,
    pair_name,
)
from icl_core.papers.cheng2026.verdicts.depth import c3, c3_peak, c4
from icl_core.papers.cheng2026.verdicts.matrix import C7_MIN_TASKS, c7, c10
from icl_core.papers.cheng2026.verdicts.representation import c5, c5_decision, c6
from icl_core.papers.cheng2026.verdicts.transfer import (
    c1,
    c1_undecided,
    c2,
    c8,
    c9,
    c9_undecided,
    transfer_gate,
)

__all__ = [
    "C7_MIN_TASKS",
    "DEMO_DISRUPTION",
    "DEPTH_DELTA",
    "DEPTH_WINDOW",
    "HIGH_TRANSFER",
    "MIN_MATRIX_TRIALS",
    "PROBE_ACCURACY",
    "QUERY_DISRUPTION",
    "ZERO_MARGIN",
    "best_cell",
    "c1",
    "c1_undecided",
    "c10",
    "c2",
    "c3",
    "c3_peak",
    "c4",
    "c5",
    "c5_decision",
    "c6",
    "c7",
    "c8",
    "c9",
    "c9_undecided",
    "pair_name",
    "transfer_gate",
]
