"""Rules on what the activations hold without patching: C5 (noise tracing) and C6 (probes)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from icl_core.decisions import (
    INCONCLUSIVE,
    Decision,
    at_least,
    at_most,
    combine,
)
from icl_core.papers.cheng2026.design import (
    DEMO_SINGLE_SETS,
)
from icl_core.papers.cheng2026.verdicts.common import (
    DEMO_DISRUPTION,
    PROBE_ACCURACY,
    QUERY_DISRUPTION,
    _select,
    _verdict,
)
from icl_core.records import Cell, Verdict
from icl_core.stats import (
    wilson_interval,
)


def c5_decision(tracing: Sequence[Cell], n_layers: int, query_set: str = "query_input_last",
                demo_sets: Sequence[str] = DEMO_SINGLE_SETS) -> Decision:  # fmt: skip
    """C5's decision (`c5`), whose `draw` names the cells its next tracing round needs."""
    early = [c for c in _select(tracing, position_set=query_set) if c.layer / n_layers < 0.5]
    demos = [c for c in tracing if c.position_set in demo_sets]
    return combine(at_most(early, 1 - QUERY_DISRUPTION, parts=2),
                   at_least(demos, 1 - DEMO_DISRUPTION, parts=2))  # fmt: skip


def c5(tracing: Sequence[Cell], model: str, protocol: str, n_layers: int,
       query_set: str = "query_input_last",
       demo_sets: Sequence[str] = DEMO_SINGLE_SETS) -> Verdict:  # fmt: skip
    """C5: noise at the query token (`query_set`) leaves accuracy <= 50% (disruption >= 0.5)
    at every layer in the first half of depth, and at any single demo token (`demo_sets`)
    accuracy >= 90% (disruption <= 0.10) at every layer: a conjunction of two e-value rules
    (each refutes at alpha / 2). Accuracy over clean-correct prompts; every noise condition
    of the cells counts (rigorous: 3 sigma; paper: each of its scales)."""
    return _verdict("C5", model, protocol, c5_decision(tracing, n_layers, query_set, demo_sets))


def c6(probes: Sequence[dict], model: str, protocol: str, layer: int) -> Verdict:
    """C6 (anytime valid): the nearest-centroid and logistic probes at the last demo token
    reach >= 95% held-out accuracy at `layer` (the best patching layer, chosen on other data):
    holds if every probe's e-value for accuracy > 95% reaches 1 / alpha; refuted if one probe's
    e-value for < 95% reaches probes / alpha. Held-out prompts may be added in rounds while the
    fitted probes stay fixed (`ModelSuite.c6_probes`): each is a fresh Bernoulli draw."""
    rows = [r for r in probes if r["layer"] == layer and r["position"] == "last_demo_token"]
    if not rows:
        return _verdict("C6", model, protocol, Decision(INCONCLUSIVE, f"no probe at {layer}"))
    cells = []
    for r in rows:
        lo, hi = wilson_interval(r["k"], r["n"]) if r["n"] else (0.0, 1.0)
        cells.append(Cell(model, "", protocol, "probes", r["probe"], layer, r.get("depth", 0.0),
                          "last_demo_token", "", r["n"], r["k"],
                          r["k"] / r["n"] if r["n"] else float("nan"), lo, hi))  # fmt: skip
    d = at_least(cells, PROBE_ACCURACY)
    fig = "; ".join(f"{c.pair} {c.k}/{c.n}" for c in cells)
    d = dataclasses.replace(d, reason=f"{fig} held out at layer {layer}, last demo token: "
                            f"{d.reason}")  # fmt: skip
    return _verdict("C6", model, protocol, d, layer=layer, held_out=cells[0].n)
