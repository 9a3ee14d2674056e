"""The headline figures: one number per claim, model and protocol that the protocols can be
compared on (SPEC 6 attribution; rows for `attribution` and the report's figures)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from icl_core.papers.cheng2026 import verdicts as V
from icl_core.papers.cheng2026.design import HEADLINE
from icl_core.records import aggregate

if TYPE_CHECKING:
    from icl_core.papers.cheng2026.suite import ModelSuite

C1_POSITIONS = ("last_demo_token", "query_first", "demo4_output_last", "last_separator")


def headline_figures(suite: ModelSuite) -> list[dict]:
    """The headline figures of `suite` (one model under one protocol), each a row {model, protocol,
    claim, figure, value, k, n, ci_low, ci_high, layer, what}; `value` is a rate (Wilson 95%
    interval) except C3's depth (interval: the bootstrap interval of the argmax layer, as
    depths). Claims not measured under this protocol are left out; "C2 (all valid trials)"
    repeats C2 without the source-competence filter (rigorous only). C1: the highest
    transfer at the paper's single positions (last demo token, first query token; rigorous
    counterparts demo4_output_last, last_separator and query_first) over the swept layers of
    the headline pair. C2: all_demo at the best layer. C5: the lowest query-noise disruption
    in the first half of depth. C6: the nearest-centroid probe at the last demo token, best
    layer. C9: the highest control transfer."""
    rows: list[dict] = []

    def add(claim, what, value, k=None, n=None, lo=None, hi=None, layer=None):
        rows.append(dict(model=suite.model, protocol=suite.protocol, claim=claim,
                         what=what, value=value, k=k, n=n, ci_low=lo, ci_high=hi,
                         layer=layer))  # fmt: skip

    def add_cell(claim, what, c):
        add(claim, what, c.rate, c.k, c.n, c.ci_low, c.ci_high, c.layer)

    pair = V.pair_name(HEADLINE)
    singles = [c for c in suite.cells(suite.single) if c.pair == pair and c.n
               and c.position_set in C1_POSITIONS]  # fmt: skip
    if singles:
        top = max(singles, key=lambda c: (c.rate, -c.layer))
        add_cell("C1", f"max single-position transfer ({top.position_set})", top)
    best = V.best_cell(suite.multi_cells, pair)
    if best is not None:
        add_cell("C2", "all_demo transfer at the best layer", best)
    c3 = suite.verdict("C3").details
    if "best_layer" in c3:
        add("C3", "depth of the best layer", c3["depth"], c3["k"], c3["n"],
            layer=c3["best_layer"])  # fmt: skip
    if not suite.spec.is_paper:  # SPEC 5.4: also over every valid trial, competent or not
        every = V.best_cell(aggregate(suite.multi), pair)
        if every is not None:
            add_cell("C2 (all valid trials)", "all_demo transfer at its best layer, "
                     "clean source right or wrong", every)  # fmt: skip
    early = [c for c in aggregate(suite.tracing) if c.position_set == suite.tracing_sets[0]
             and c.layer / suite.n_layers < 0.5 and c.n]  # fmt: skip
    if early:
        top = max(early, key=lambda c: (c.rate, -c.layer))
        add("C5", f"lowest query-noise disruption, first half of depth ({top.condition})",
            1 - top.rate, top.n - top.k, top.n, 1 - top.ci_high, 1 - top.ci_low,
            top.layer)  # fmt: skip
    for r in suite.c6_probes:
        if r["probe"] == "centroid" and r["n"]:
            add("C6", "nearest-centroid probe at the last demo token", r["accuracy"], r["k"],
                r["n"], r["ci_low"], r["ci_high"], r["layer"])  # fmt: skip
    controls = [c for c in suite.cells(suite.controls) if c.n]
    if controls:
        top = max(controls, key=lambda c: c.rate)
        add_cell("C9", f"max control transfer ({top.condition.split('=')[-1]})", top)
    return rows
