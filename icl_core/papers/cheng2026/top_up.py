"""Top-up rules of the sequential patching experiments: which (position set, layer) conditions
of a pair a further round draws, namely those a claim reading the experiment has not decided,
each with the rule's projection (`rounds.Want`; `rounds.worth_drawing` drops a rule that cannot
decide by the cap). `OPEN[stop](suite)` is the `rounds.OpenConditions` of a
`runner.PatchingSpec`'s `stop`. Stopping on these outcomes is valid because every rule they ask
is anytime-valid (`icl_core.decisions`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from icl_core.decisions import HOLDS, INCONCLUSIVE, REFUTED, at_most
from icl_core.experiments.rounds import OpenConditions, Want
from icl_core.papers.cheng2026 import verdicts as V
from icl_core.papers.cheng2026.design import THRESHOLD_SETS
from icl_core.records import Cell, TrialRecord, Verdict, aggregate

if TYPE_CHECKING:
    from icl_core.papers.cheng2026.suite import ModelSuite

Pair = tuple[str, str]


def _pair_cells(suite: ModelSuite, records: list[TrialRecord], pair: Pair) -> list[Cell]:
    name = V.pair_name(pair)
    return suite.cells([r for r in records if r.pair == name])


def _want(cells: Sequence[Cell], projected: int | None) -> Want:
    return Want(frozenset((c.position_set, c.layer) for c in cells), projected)


def _projected(v: Verdict) -> int | None:
    return v.details["projected_trials"]  # every per-model verdict carries it (`_verdict`)


def multi(suite: ModelSuite) -> OpenConditions:
    """all_demo at every swept layer while C3, C3-peak or C1's transfer gate is undecided (C3
    compares layers on the same trials), unless the pair is shown to transfer at no layer; and
    C2's undecided layers' all_demo and input_only cells. One want per undecided rule."""

    def open_of(records: list[TrialRecord], pair: Pair) -> list[Want]:
        cells = _pair_cells(suite, records, pair)
        c2 = V.c2(cells, suite.model, suite.protocol, pair)
        wants = [_want(c2.open_cells, _projected(c2))] if c2.open_cells else []
        gate = V.transfer_gate(cells, V.pair_name(pair))
        if gate == REFUTED:  # nothing transfers: C3 and C3-peak can never decide
            return wants
        sweep = frozenset(("all_demo", L) for L in suite.sweep_layers)
        if gate == INCONCLUSIVE:  # the gate's either way: a layer > 10% at layers / alpha,
            # or every layer <= 10% at 1 / alpha: at_most's projection on all_demo
            demo = [c for c in cells if c.position_set == "all_demo"]
            wants.append(Want(sweep, at_most(demo, V.ZERO_MARGIN).projected))
        for f in (V.c3, V.c3_peak):
            v = f(records, suite.model, suite.protocol, suite.n_layers, pair, suite.sweep_layers)
            if v.status == INCONCLUSIVE:
                wants.append(Want(sweep, _projected(v)))
        return wants

    return open_of


def single(suite: ModelSuite) -> OpenConditions:
    """The cells C1 still needs of a pair shown to transfer, at the model-level C1's refutation
    threshold (`V.c1_undecided`'s `draw`: the one nearest to a refutation where a cell points to
    one, else every undecided cell; nothing for a pair whose gate is not passed: C1 is not
    measured on it)."""

    def open_of(records: list[TrialRecord], pair: Pair) -> list[Want]:
        if V.transfer_gate(suite.cells(suite.multi_of(pair)), V.pair_name(pair)) != HOLDS:
            return []
        d = V.c1_undecided(_pair_cells(suite, records, pair), len(suite.sweep_pairs))
        return [_want(d.draw, d.projected)] if d.draw else []

    return open_of


def control(suite: ModelSuite) -> OpenConditions:
    """A control's cells while C9 (over the three controls) has not decided them
    (`V.c9_undecided`)."""

    def open_of(records: list[TrialRecord], pair: Pair) -> list[Want]:
        d = V.c9_undecided(_pair_cells(suite, records, pair))
        return [_want(d.open, d.projected)] if d.open else []

    return open_of


def c5(suite: ModelSuite) -> OpenConditions:
    """The tracing cells of a task ("noise" -> task) C5's next round needs while C5 is
    undecided (`Decision.draw`): where a cell points to a refutation, only the cell nearest to
    it (one cell refutes, and a tracing cell's cost is its own noised runs); else every open
    cell."""

    def open_of(records: list[TrialRecord], pair: Pair) -> list[Want]:
        d = V.c5_decision(aggregate(records), suite.n_layers, *suite.tracing_sets)
        cells = [c for c in d.draw if c.pair == V.pair_name(pair)]
        return [_want(cells, d.projected)] if cells else []

    return open_of


def thresholds(suite: ModelSuite) -> OpenConditions:
    """Every threshold set at the best layer while C8 is undecided."""

    def open_of(records: list[TrialRecord], pair: Pair) -> list[Want]:
        v = V.c8(suite.cells(records), records, suite.model, suite.protocol)
        if v.status != INCONCLUSIVE:
            return []
        return [Want(frozenset((s, suite.best_layer) for s in THRESHOLD_SETS), _projected(v))]

    return open_of


def c10(suite: ModelSuite) -> OpenConditions:
    """A C10 pair's all_demo cell at the best layer while C10 is undecided and the pair is
    shown neither way (`V.c10`'s open cells, over `suite.c10_pairs`)."""

    def open_of(records: list[TrialRecord], pair: Pair) -> list[Want]:
        v = V.c10(suite.cells(records), suite.model, suite.protocol, suite.c10_pairs)
        name = V.pair_name(pair)
        if v.status != INCONCLUSIVE or not any(c.pair == name for c in v.open_cells):
            return []
        return [Want(frozenset({("all_demo", suite.best_layer)}), _projected(v))]

    return open_of


OPEN = {"multi": multi, "single": single, "control": control, "thresholds": thresholds}
