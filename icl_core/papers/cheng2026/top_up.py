"""Top-up rules of the sequential patching experiments: which (position set, layer) conditions
of a pair a further round draws, namely those a claim reading the experiment has not decided.
`OPEN[stop](suite)` is the `rounds.OpenConditions` of a `runner.PatchingSpec`'s `stop`.
Stopping on these outcomes is valid because every rule they ask is anytime-valid
(`icl_core.decisions`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from icl_core.decisions import HOLDS, INCONCLUSIVE, REFUTED
from icl_core.experiments.rounds import Conditions, OpenConditions
from icl_core.papers.cheng2026 import verdicts as V
from icl_core.papers.cheng2026.design import THRESHOLD_SETS
from icl_core.records import Cell, TrialRecord

if TYPE_CHECKING:
    from icl_core.papers.cheng2026.suite import ModelSuite

Pair = tuple[str, str]


def _pair_cells(suite: ModelSuite, records: list[TrialRecord], pair: Pair) -> list[Cell]:
    name = V.pair_name(pair)
    return suite.cells([r for r in records if r.pair == name])


def multi(suite: ModelSuite) -> OpenConditions:
    """all_demo at every swept layer while C3, C3-peak or C1's transfer gate is undecided (C3
    compares layers on the same trials), unless the pair is shown to transfer at no layer; and
    C2's undecided layers' all_demo and input_only cells."""

    def open_of(records: list[TrialRecord], pair: Pair) -> Conditions:
        cells = _pair_cells(suite, records, pair)
        c2 = V.c2(cells, suite.model, suite.protocol, pair)
        out = {(c.position_set, c.layer) for c in c2.open_cells}
        gate = V.transfer_gate(cells, V.pair_name(pair))
        if gate == REFUTED:  # nothing transfers: C3 and C3-peak can never decide
            return out
        if gate == INCONCLUSIVE or any(
            f(records, suite.model, suite.protocol, suite.n_layers, pair,
              suite.sweep_layers).status == INCONCLUSIVE for f in (V.c3, V.c3_peak)):  # fmt: skip
            out |= {("all_demo", L) for L in suite.sweep_layers}
        return out

    return open_of


def single(suite: ModelSuite) -> OpenConditions:
    """C1's undecided cells of a pair shown to transfer, at the model-level C1's refutation
    threshold (`V.c1_open`; nothing for a pair whose gate is not passed: C1 is not measured on
    it)."""

    def open_of(records: list[TrialRecord], pair: Pair) -> Conditions:
        if V.transfer_gate(suite.cells(suite.multi_of(pair)), V.pair_name(pair)) != HOLDS:
            return set()
        open_ = V.c1_open(_pair_cells(suite, records, pair), len(suite.sweep_pairs))
        return {(c.position_set, c.layer) for c in open_}

    return open_of


def control(suite: ModelSuite) -> OpenConditions:
    """A control's cell while C9 (over the three controls) has not decided it (`V.c9_open`)."""

    def open_of(records: list[TrialRecord], pair: Pair) -> Conditions:
        return {(c.position_set, c.layer) for c in V.c9_open(_pair_cells(suite, records, pair))}

    return open_of


def thresholds(suite: ModelSuite) -> OpenConditions:
    """Every threshold set at the best layer while C8 is undecided."""

    def open_of(records: list[TrialRecord], pair: Pair) -> Conditions:
        v = V.c8(suite.cells(records), records, suite.model, suite.protocol)
        undecided = v.status == INCONCLUSIVE
        return {(s, suite.best_layer) for s in THRESHOLD_SETS} if undecided else set()

    return open_of


OPEN = {"multi": multi, "single": single, "control": control, "thresholds": thresholds}
