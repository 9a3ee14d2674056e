"""Rules on patching transfer rates: C1 (no single position), C2 (all demos together), C8
(how many output lines) and C9 (controls)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from icl_core.decisions import (
    ALPHA,
    HOLDS,
    INCONCLUSIVE,
    REFUTED,
    Decision,
    at_least,
    at_most,
    combine,
)
from icl_core.papers.cheng2026.design import (
    CONTROLS,
    HEADLINE,
    SUBSET_DRAWS,
    SUBSET_KS,
    subset_set,
)
from icl_core.papers.cheng2026.verdicts.common import (
    HIGH_TRANSFER,
    ZERO_MARGIN,
    _by_layer,
    _select,
    _verdict,
    pair_name,
)
from icl_core.records import Cell, TrialRecord, Verdict
from icl_core.stats.sequential import e_above, e_below, rate_e_values, rate_projected_trials


def c2(multi: Sequence[Cell], model: str, protocol: str, pair=HEADLINE) -> Verdict:
    """C2: holds if at some layer L all_demo transfer is >= 50% and input_only <= 10% (each
    e-value >= n_layers / alpha: Bonferroni over the layer choice); refuted if at every layer
    all_demo is shown < 50% or input_only > 10% (each at 2 / alpha, intersection over layers).
    Open: both cells of every layer that is neither. The figure names the layer nearest to
    holding (largest holds e-value), not `ModelSuite.best_layer` (the all_demo argmax)."""
    name = pair_name(pair)
    demo, inputs = _by_layer(multi, name, "all_demo"), _by_layer(multi, name, "input_only")
    layers = sorted(demo)
    if not layers or not any(c.n for c in demo.values()):
        return _verdict("C2", model, protocol, Decision(INCONCLUSIVE, f"{name}: no valid trial"))
    hold_at, refute_at = len(layers) / ALPHA, 2 / ALPHA
    rows, open_ = [], []
    for L in layers:
        d, i = demo[L], inputs.get(L)
        d_below, d_above = rate_e_values(d.k, d.n, HIGH_TRANSFER)
        i_below, i_above = rate_e_values(i.k, i.n, ZERO_MARGIN) if i else (0.0, 0.0)
        rows.append((L, d, i, min(d_above, i_below), max(d_below, i_above)))
        if min(d_above, i_below) < hold_at and max(d_below, i_above) < refute_at:
            open_ += [d] + ([i] if i else [])
    best = max(rows, key=lambda r: (r[3], r[1].rate))
    L, d, i = best[0], best[1], best[2]
    fig = (f"{name}: layer {L}, the nearest to holding: all_demo {d}, input_only "
           f"{i if i else 'not measured'}; e = {best[3]:.3g} (needs {hold_at:.3g})")  # fmt: skip
    if best[3] >= hold_at:
        dec = Decision(HOLDS, fig, d, e_values={"holds": best[3], "threshold": hold_at})
    elif all(r[4] >= refute_at for r in rows):
        weakest = min(rows, key=lambda r: r[4])
        dec = Decision(REFUTED, fig + f": every layer shown below {HIGH_TRANSFER:.0%} (or "
                       f"input_only above {ZERO_MARGIN:.0%}); weakest e = {weakest[4]:.3g}",
                       d, e_values={"refute_min": weakest[4], "threshold": refute_at})  # fmt: skip
    else:
        need, toward = _c2_refutation_projection(demo, inputs, open_, refute_at), REFUTED
        if need is None:
            need = rate_projected_trials(d.k, d.n, HIGH_TRANSFER, hold_at, "above")
            toward = HOLDS if need is not None else None
        word = {REFUTED: "a refutation", HOLDS: "holding"}.get(toward or "")
        more = f", about {need} more counted trials toward {word}" if need is not None else ""
        dec = Decision(INCONCLUSIVE, fig + f"; {len(open_) // 2 or len(open_)} layer(s) "
                       f"undecided{more}", d, tuple(open_),
                       {"holds": best[3], "threshold": hold_at}, need, toward)  # fmt: skip
    return _verdict("C2", model, protocol, dec, best_layer=L, rate=d.rate, k=d.k, n=d.n,
                    ci=[d.ci_low, d.ci_high])  # fmt: skip


def _c2_refutation_projection(demo: dict[int, Cell], inputs: dict[int, Cell],
                              open_: Sequence[Cell], refute_at: float) -> int | None:  # fmt: skip
    """C2's further counted trials to refutation where every open layer points to one (its
    all_demo below 50% or its input_only above 10%, each keeping its observed rate): the most
    any open layer needs; None where some open layer points neither way."""
    needs = []
    for L in sorted({c.layer for c in open_}):
        sides = [(demo[L], HIGH_TRANSFER, "below")]
        if L in inputs:
            sides.append((inputs[L], ZERO_MARGIN, "above"))
        ways = [rate_projected_trials(c.k, c.n, m, refute_at, side) for c, m, side in sides]
        if all(x is None for x in ways):
            return None
        needs.append(min(x for x in ways if x is not None))
    return max(needs) if needs else None


def transfer_gate(multi: Sequence[Cell], pair: str) -> str:
    """Whether `pair` transfers under all_demo patching at some layer: HOLDS if some layer's
    e-value for > 10% reaches n_layers / alpha, REFUTED if every layer is shown <= 10%, else
    INCONCLUSIVE (C1's matched comparison is made on pairs that transfer)."""
    cells = [c for c in _select(multi, pair=pair, position_set="all_demo")]
    if not cells:
        return INCONCLUSIVE
    e = [rate_e_values(c.k, c.n, ZERO_MARGIN) for c in cells]
    if max(a for _, a in e) >= len(cells) / ALPHA:
        return HOLDS
    if all(b >= 1 / ALPHA for b, _ in e):
        return REFUTED
    return INCONCLUSIVE


def _gate_projection(multi: Sequence[Cell], pair: str) -> int | None:
    """Further counted all_demo trials for `pair`'s `transfer_gate` to hold, at the observed
    rate of its most promising layer (None: no layer points above 10%)."""
    cells = _select(multi, pair=pair, position_set="all_demo")
    needs = [rate_projected_trials(c.k, c.n, ZERO_MARGIN, len(cells) / ALPHA, "above")
             for c in cells]  # fmt: skip
    return min((x for x in needs if x is not None), default=None)


def c1(single: Sequence[Cell], multi: Sequence[Cell], model: str, protocol: str,
       pairs: Sequence[str] | None = None) -> Verdict:  # fmt: skip
    """C1: on the `pairs` (default: all) that transfer under all_demo patching
    (`transfer_gate`), every single position at every layer transfers <= 10%: holds if every
    cell's e-value reaches 1 / alpha; refuted if one cell's e-value for > 10% reaches
    cells / alpha (Bonferroni over every cell of every gated pair). While no pair is gated,
    the projection is the all_demo trials the nearest gate needs."""
    pairs = sorted({c.pair for c in multi}) if pairs is None else list(pairs)
    gates = {p: transfer_gate(multi, p) for p in pairs}
    gated = [p for p, g in gates.items() if g == HOLDS]
    waiting = [p for p, g in gates.items() if g == INCONCLUSIVE]
    if not gated:
        why = ("not yet shown to transfer under all_demo patching: " + ", ".join(waiting)
               if waiting else "no pair transfers under all_demo patching (every layer shown "
               f"<= {ZERO_MARGIN:.0%}): a matched comparison is impossible")  # fmt: skip
        near = [x for x in (_gate_projection(multi, p) for p in waiting) if x is not None]
        d = Decision(INCONCLUSIVE, why, projected=min(near, default=None))
        return _verdict("C1", model, protocol, d, pairs=[])
    d = at_most([c for c in single if c.pair in gated], ZERO_MARGIN)
    if d.status == HOLDS and waiting:
        d = Decision(INCONCLUSIVE, d.reason + "; pairs not yet gated: " + ", ".join(waiting),
                     d.worst, d.open, d.e_values)  # fmt: skip
    return _verdict("C1", model, protocol, d, pairs=gated)


def c1_undecided(pair_single: Sequence[Cell], pairs: int) -> Decision:
    """C1's decision on ONE sweep pair's single-position sweep, where the model's C1 spans
    `pairs` sweep pairs of equally many cells: its `open` cells stay open until shown <= 10%
    (e >= 1 / alpha), all close once one cell is refuted at the model-level threshold
    pairs x cells / alpha (a pair's own threshold, cells / alpha, would stop its rounds while
    the model's C1 is still undecided); `projected`: the further counted trials it needs."""
    return at_most(pair_single, ZERO_MARGIN, parts=pairs)


def _subset_differences(records: Sequence[TrialRecord]) -> tuple[dict[float, int], int]:
    """Per trial: mean transfer over the draws of k* (the largest subset size <= half of that
    trial's output-line positions) minus half the all-positions transfer; counts by value."""
    trials: dict[int, dict[str, TrialRecord]] = {}
    for r in records:
        if r.outcome is not None and r.source_clean_correct:
            trials.setdefault(r.seed, {})[r.position_set] = r
    counts: Counter[float] = Counter()
    for sets in trials.values():
        full = sets.get("output_lines")
        if full is None:
            continue
        ks = [k for k in SUBSET_KS if k <= len(full.target_positions) / 2]
        if not ks:
            continue
        draws = [sets[subset_set(ks[-1], s)] for s in range(SUBSET_DRAWS)
                 if subset_set(ks[-1], s) in sets]  # fmt: skip
        if not draws:
            continue
        sub = sum(r.outcome == "transfer" for r in draws) / len(draws)
        counts[round(sub - (full.outcome == "transfer") / 2, 6)] += 1
    return dict(counts), sum(counts.values())


def c8(thresholds: Sequence[Cell], records: Sequence[TrialRecord], model: str,
       protocol: str) -> Verdict:  # fmt: skip
    """C8, three parts (each refutes at alpha / 3): (a) patching the output lines of the last
    1-3 demos transfers <= 10% (e-values, every cell) and of all 5 demos >= 50%; (b) per trial,
    d = rate(k*) - rate(all) / 2 with k* the largest tested subset size at most half the
    output-line positions: holds if the paired e-value for mean(d) < 0 reaches 1 / alpha,
    refuted if the one for mean(d) > 0 reaches 3 / alpha (no decision on point estimates)."""
    few = [c for c in thresholds if c.position_set in ("output_lines@last1", "output_lines@last2",
                                                      "output_lines@last3")]  # fmt: skip
    full = _select(thresholds, position_set="output_lines")
    counts, n = _subset_differences(records)
    fig = f"(b) {n} paired trials, mean rate(k*) - rate(all)/2 = " + (
        f"{sum(v * c for v, c in counts.items()) / n:+.3f}" if n else "n/a"
    )
    if n:
        eb, ea = e_below(counts, 0.0, -0.5, 1.0), e_above(counts, 0.0, -0.5, 1.0)
    else:
        eb = ea = 0.0
    if ea >= 3 / ALPHA:
        subsets = Decision(REFUTED, fig + f": a minority of positions gives more than half "
                           f"(e = {ea:.3g})")  # fmt: skip
    elif eb >= 1 / ALPHA:
        subsets = Decision(HOLDS, fig + f" (e = {eb:.3g})")
    else:
        subsets = Decision(INCONCLUSIVE, fig + f" (e = {eb:.3g} < {1 / ALPHA:.3g})",
                           e_values={"subsets": eb})  # fmt: skip
    d = combine(at_most(few, ZERO_MARGIN, parts=3), at_least(full, HIGH_TRANSFER, parts=3),
                subsets)  # fmt: skip
    return _verdict("C8", model, protocol, d, paired_trials=n)


def c9_undecided(control: Sequence[Cell], controls: int = len(CONTROLS)) -> Decision:
    """C9's decision on ONE control's run (over `controls` controls): its `open` cells stay
    open until the cell holds (e >= 1 / alpha) or is refuted at C9's threshold
    controls / alpha; `projected`: the further counted trials it needs."""
    return at_most(control, ZERO_MARGIN, parts=controls)


def c9(controls: Sequence[Cell], model: str, protocol: str) -> Verdict:
    """C9: every control (random source, norm-matched noise, shuffled roles) transfers <= 10%
    at the best layer (e-values: every cell at 1 / alpha; refuted at cells / alpha)."""
    return _verdict("C9", model, protocol, at_most(list(controls), ZERO_MARGIN))
