"""The claims' decision logic (SPEC 7): thresholds fixed here, before any run, and the verdict
of each claim on one model from tidy cells. Patching claims read cells aggregated over trials
whose clean source prompt was answered correctly (the mechanism, not the model's competence).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from icl_core.decisions import HOLDS, INCONCLUSIVE, REFUTED, Decision, at_least, at_most, combine
from icl_core.records import Cell, TrialRecord, Verdict
from icl_core.stats import binom_test_greater, bootstrap_argmax, holm, pearson

HEADLINE_PAIR = ("uppercase", "repeat_word")
ZERO_MARGIN = 0.10  # C1, C2 (input_only), C8 (1-3 demos), C9
HIGH_TRANSFER = 0.5  # C2, C8 (5 demos)
DEPTH_WINDOW = (0.2, 0.4)  # C3
MIN_BOOTSTRAP_TRIALS = 10  # C3: fewer trials make the bootstrap interval of the argmax too narrow
QUERY_DISRUPTION = 0.5  # C5: noise at the query disrupts >= 50% in the first half of depth
DEMO_DISRUPTION = 0.10  # C5: noise at any single demo output token disrupts <= 10%
PROBE_ACCURACY = 0.95  # C6
MULTI_SETS = ("all_demo", "output_only", "input_only", "last_demo")
SINGLE_SETS = ("demo0_output_last", "demo1_output_last", "demo2_output_last",
               "demo3_output_last", "demo4_output_last", "last_separator", "query_first",
               "query_input_last", "query_last")  # fmt: skip
DEMO_SINGLE_SETS = tuple(s for s in SINGLE_SETS if s.startswith("demo"))
CONTROLS = ("random_source", "noise_matched", "shuffled")
PER_MODEL_CLAIMS = ("C1", "C2", "C3", "C5", "C6", "C7", "C8", "C9", "C10")  # C4 spans models

PAPER = {
    "C1": "0% transfer at all 28 layers of Llama-3.2-3B; 0% [0, 7%] at L14",
    "C2": "uppercase->repeat_word at L8: all_demo 96% [87, 99], output_only 94% [84, 98], "
    "input_only 0% [0, 7], N=50",
    "C3": "best layers 8/28, 5/16, 8/28, 8/26 (~30% depth)",
    "C4": "upper->repeat best-layer transfer 0.90 / 0.60 / 0.90 / 0.40 (N=10)",
    "C5": "query noise disrupts 53-100% in early-middle layers; 0% at single demo positions",
    "C6": "nearest-centroid probe 100% at demo positions, 83% at query (L12)",
    "C7": "r = -0.05 (surface) vs r = 0.31 (representation), 56 pairs",
    "C8": "1-7 output positions ~0%, 10 -> 10%, all -> 90%; 1-3 source demos 0%, 5 -> 93%",
    "C9": "random source, noise, shuffled positions: 0% (its own data: shuffled 55%)",
    "C10": "7 of 56 pairs >= 50% at L8",
}


def _verdict(claim: str, model: str, protocol: str, d: Decision, **details) -> Verdict:
    return Verdict(claim, model, protocol, d.status, d.reason, PAPER[claim], details)


def _select(cells: Sequence[Cell], **where) -> list[Cell]:
    return [c for c in cells if all(getattr(c, k) == v for k, v in where.items())]


def pair_name(pair: tuple[str, str]) -> str:
    return f"{pair[0]}->{pair[1]}"


def best_cell(cells: Sequence[Cell], pair: str, position_set: str = "all_demo") -> Cell | None:
    """The layer with the highest rate (ties: lowest layer) among cells with valid trials."""
    rows = [c for c in _select(cells, pair=pair, position_set=position_set) if c.n]
    return max(rows, key=lambda c: (c.rate, -c.layer)) if rows else None


def c2(multi: Sequence[Cell], model: str, protocol: str, pair=HEADLINE_PAIR) -> Verdict:
    """C2: at the best layer, all_demo transfer has a Wilson lower bound >= 50% and input_only
    is at most 10%. Refuted if no layer's all_demo transfer can reach 50%."""
    name = pair_name(pair)
    best = best_cell(multi, name)
    if best is None:
        return _verdict("C2", model, protocol, Decision(INCONCLUSIVE, f"{name}: no valid trial"))
    high = at_least([best], HIGH_TRANSFER)
    if high.status == REFUTED:
        rows = [c for c in _select(multi, pair=name, position_set="all_demo") if c.n]
        high = at_least(rows, HIGH_TRANSFER)
        if not all(c.ci_high < HIGH_TRANSFER for c in rows):
            high = Decision(INCONCLUSIVE, high.reason, high.worst)
    inputs = _select(multi, pair=name, position_set="input_only", layer=best.layer)
    d = combine(high, at_most(inputs, ZERO_MARGIN))
    return _verdict("C2", model, protocol, d, best_layer=best.layer, rate=best.rate, k=best.k,
                    n=best.n, ci=[best.ci_low, best.ci_high])  # fmt: skip


def transferring_pairs(multi: Sequence[Cell]) -> list[str]:
    """Pairs whose best all_demo transfer is significantly above the zero margin (the pairs
    on which C1's matched comparison is made)."""
    pairs = sorted({c.pair for c in multi})
    out = []
    for p in pairs:
        best = best_cell(multi, p)
        if best is not None and at_most([best], ZERO_MARGIN).status == REFUTED:
            out.append(p)
    return out


def c1(single: Sequence[Cell], multi: Sequence[Cell], model: str, protocol: str) -> Verdict:
    """C1: on pairs where multi-position transfer is significant, every single position at
    every layer has a one-sided 95% upper bound of transfer <= 10%."""
    pairs = transferring_pairs(multi)
    if not pairs:
        d = Decision(INCONCLUSIVE, "no pair transfers significantly under all_demo patching: "
                     "a matched comparison is impossible")  # fmt: skip
        return _verdict("C1", model, protocol, d)
    cells = [c for c in single if c.pair in pairs]
    return _verdict("C1", model, protocol, at_most(cells, ZERO_MARGIN), pairs=pairs)


def c3(multi_records: Sequence[TrialRecord], model: str, protocol: str, n_layers: int,
       pair=HEADLINE_PAIR, seed: int = 0, layers: Sequence[int] | None = None,
       source_clean_only: bool = True) -> Verdict:  # fmt: skip
    """C3: the bootstrap interval of the argmax layer of all_demo transfer over the swept
    `layers` (default: every layer) lies within depth [0.2, 0.4]; refuted if the window of
    layers not significantly below the best layer lies entirely outside it. Needs the best
    transfer to be significant. `source_clean_only`: count only trials whose clean source
    prompt was answered correctly (rigorous; the paper protocol counts every trial)."""
    name = pair_name(pair)
    layers = list(range(n_layers)) if layers is None else sorted(layers)
    rows = [r for r in multi_records if r.pair == name and r.position_set == "all_demo"
            and r.outcome is not None
            and (r.source_clean_correct or not source_clean_only)]  # fmt: skip
    seeds = sorted({r.seed for r in rows})
    by = {(r.layer, r.seed): r.outcome == "transfer" for r in rows}
    seeds = [s for s in seeds if all((L, s) in by for L in layers)]
    if len(seeds) < MIN_BOOTSTRAP_TRIALS:
        reason = (f"{name}: {len(seeds)} complete trials; the argmax bootstrap needs >= "
                  f"{MIN_BOOTSTRAP_TRIALS}")  # fmt: skip
        return _verdict("C3", model, protocol, Decision(INCONCLUSIVE, reason))
    outcomes = np.array([[by[(L, s)] for s in seeds] for L in layers], dtype=int)
    res = bootstrap_argmax(outcomes, seed=seed)
    best, ci_low, ci_high = layers[res.best], layers[res.ci_low], layers[res.ci_high]
    window = [layers[i] for i in res.window]
    lo, hi = DEPTH_WINDOW
    k_best = int(outcomes[res.best].sum())
    details = dict(best_layer=best, depth=best / n_layers, ci_layers=[ci_low, ci_high],
                   window=window, n=len(seeds), k=k_best, layers_swept=len(layers))  # fmt: skip
    figure = (f"best layer {best}/{n_layers} (depth {best / n_layers:.2f}, "
              f"{k_best}/{len(seeds)}), bootstrap 95% interval layers {ci_low}-{ci_high}"
              f", window {window}")  # fmt: skip
    if len(layers) < n_layers:
        figure += f" ({len(layers)} of {n_layers} layers swept: {layers})"
    if binom_test_greater(k_best, len(seeds), ZERO_MARGIN) >= 0.05:
        d = Decision(INCONCLUSIVE, figure + ": the best layer's transfer is not significantly "
                     f"above {ZERO_MARGIN:.0%}")  # fmt: skip
    elif lo <= ci_low / n_layers and ci_high / n_layers <= hi:
        d = Decision(HOLDS, figure)
    elif not any(lo <= L / n_layers <= hi for L in window):
        d = Decision(REFUTED, figure + f": no layer of the window lies in depth {lo}-{hi}")
    else:
        d = Decision(INCONCLUSIVE, figure + ": the interval is wider than the depth window")
    return _verdict("C3", model, protocol, d, **details)


def c4(per_model: dict[str, tuple[str, Verdict, Verdict]], family: str, protocol: str) -> Verdict:
    """C4: for the family, at least one model of the run where both C2 and C3 hold.
    `per_model`: model -> (family, C2 verdict, C3 verdict)."""
    models = {m: v for m, v in per_model.items() if v[0] == family}
    statuses = {m: (v[1].status, v[2].status) for m, v in models.items()}
    figure = "; ".join(f"{m}: C2 {a}, C3 {b}" for m, (a, b) in statuses.items())
    if any(a == b == HOLDS for a, b in statuses.values()):
        status = HOLDS
    elif models and all(REFUTED in s for s in statuses.values()):
        status = REFUTED
    else:
        status = INCONCLUSIVE
    return Verdict("C4", f"family:{family}", protocol, status, figure or "no model",
                   PAPER["C4"], {"models": list(models)})  # fmt: skip


def c5(tracing: Sequence[Cell], model: str, protocol: str, n_layers: int,
       query_set: str = "query_input_last",
       demo_sets: Sequence[str] = DEMO_SINGLE_SETS) -> Verdict:  # fmt: skip
    """C5: noise at the query token (`query_set`) leaves accuracy <= 50% (disruption >= 0.5)
    at every layer in the first half of depth; at any single demo token (`demo_sets`)
    accuracy >= 90% (disruption <= 0.10) at every layer. Accuracy over clean-correct prompts;
    every noise condition of the cells counts (rigorous: 3 sigma; paper: each of its scales)."""
    early = [c for c in _select(tracing, position_set=query_set) if c.layer / n_layers < 0.5]
    demos = [c for c in tracing if c.position_set in demo_sets]
    d = combine(at_most(early, 1 - QUERY_DISRUPTION), at_least(demos, 1 - DEMO_DISRUPTION))
    return _verdict("C5", model, protocol, d)


def c6(probes: Sequence[dict], model: str, protocol: str, layer: int) -> Verdict:
    """C6: nearest-centroid and logistic probes at the last demo token reach >= 95% held-out
    accuracy (Wilson lower bound) at the best patching layer."""
    rows = [r for r in probes if r["layer"] == layer and r["position"] == "last_demo_token"]
    cells = [
        Cell(model, "", protocol, "probes", r["probe"], layer, 0.0, r["position"], "", r["n"],
             r["k"], r["accuracy"], r["ci_low"], r["ci_high"])
        for r in rows
    ]  # fmt: skip
    return _verdict("C6", model, protocol, at_least(cells, PROBE_ACCURACY), layer=layer)


def c7(matrix: Sequence[Cell], similarities: Sequence[dict], model: str, protocol: str,
       seed: int = 0) -> Verdict:  # fmt: skip
    """C7: over ordered pairs, r(representation, transfer) > r(surface, transfer) with the
    bootstrap interval of the difference above 0, and the surface interval contains 0."""
    rate = {c.pair: c.rate for c in matrix if c.n}
    rows = [s for s in similarities if f"{s['source_task']}->{s['target_task']}" in rate]
    if len(rows) < 6:
        return _verdict("C7", model, protocol, Decision(INCONCLUSIVE, f"{len(rows)} pairs with "
                        "both a transfer rate and similarities (need >= 6)"))  # fmt: skip
    y = np.array([rate[f"{s['source_task']}->{s['target_task']}"] for s in rows])
    if np.ptp(y) == 0:
        return _verdict("C7", model, protocol, Decision(INCONCLUSIVE, "transfer is constant "
                        f"over {len(rows)} pairs: no correlation to compare"))  # fmt: skip
    surf = pearson([s["surface"] for s in rows], y, seed=seed)
    rep = pearson([s["representation"] for s in rows], y, seed=seed)
    rng = np.random.default_rng(seed)
    xs, xr = np.array([s["surface"] for s in rows]), np.array([s["representation"] for s in rows])
    diffs = []
    for _ in range(2000):
        i = rng.integers(0, len(y), len(y))
        if np.ptp(y[i]) and np.ptp(xs[i]) and np.ptp(xr[i]):
            diffs.append(np.corrcoef(xr[i], y[i])[0, 1] - np.corrcoef(xs[i], y[i])[0, 1])
    lo, hi = np.percentile(diffs, [2.5, 97.5])
    fig = (f"r(surface) = {surf.r:.2f} [{surf.ci_low:.2f}, {surf.ci_high:.2f}], r(representation)"
           f" = {rep.r:.2f} [{rep.ci_low:.2f}, {rep.ci_high:.2f}], difference 95% CI "
           f"[{lo:.2f}, {hi:.2f}], {len(rows)} pairs")  # fmt: skip
    surface_zero = surf.ci_low <= 0 <= surf.ci_high
    if lo > 0 and surface_zero:
        d = Decision(HOLDS, fig)
    elif hi < 0:
        d = Decision(REFUTED, fig + ": surface similarity predicts transfer better")
    else:
        d = Decision(INCONCLUSIVE, fig)
    return _verdict("C7", model, protocol, d, r_surface=surf.r, r_representation=rep.r,
                    diff_ci=[float(lo), float(hi)], n_pairs=len(rows))  # fmt: skip


SUBSET_KS = (1, 2, 3, 5, 7, 10)
SUBSET_DRAWS = 10


def subset_set(k: int, s: int) -> str:
    return f"output_lines@k{k}s{s}"


def c8(thresholds: Sequence[Cell], model: str, protocol: str, n_positions: float) -> Verdict:
    """C8: (a) source-demo count: patching the output lines of the last 1-3 demos transfers
    <= 10%, of all 5 demos >= 50%; (b) random subsets of k output-line positions: transfer is
    non-decreasing in k within noise (no larger k significantly below a smaller one, Holm),
    and the smallest k whose rate reaches half of the all-positions rate exceeds half of the
    `n_positions` output-line positions (mean per prompt)."""
    few = [c for c in thresholds if c.position_set in ("output_lines@last1", "output_lines@last2",
                                                      "output_lines@last3")]  # fmt: skip
    full = _select(thresholds, position_set="output_lines")
    demos = combine(at_most(few, ZERO_MARGIN), at_least(full, HIGH_TRANSFER))
    pooled = {}
    for k in SUBSET_KS:
        cells = [c for c in thresholds if c.position_set.startswith(f"output_lines@k{k}s")]
        pooled[k] = (sum(c.k for c in cells), sum(c.n for c in cells))
    pooled[10**6] = (sum(c.k for c in full), sum(c.n for c in full))
    if any(n == 0 for _, n in pooled.values()):
        return _verdict("C8", model, protocol, combine(demos, Decision(INCONCLUSIVE,
                        "a subset size has no valid trial")))  # fmt: skip
    ks = sorted(pooled)
    pvals, pairs = [], []
    for i, a in enumerate(ks):
        for b in ks[i + 1 :]:
            (ka, na), (kb, nb) = pooled[a], pooled[b]
            pvals.append(binom_two_sample_less(kb, nb, ka, na))
            pairs.append((a, b))
    reject, _ = holm(pvals)
    rates = {k: pooled[k][0] / pooled[k][1] for k in ks}
    half = rates[10**6] / 2
    smallest = min((k for k in ks if rates[k] >= half and rates[10**6] > 0), default=10**6)
    label = {10**6: "all"}
    fig = ("rates by k: " + ", ".join(f"{label.get(k, k)}: {pooled[k][0]}/{pooled[k][1]}"
           for k in ks) + f"; smallest k reaching half of all: {label.get(smallest, smallest)} "
           f"(half of the positions: {n_positions / 2:.1f})")  # fmt: skip
    if reject.any():
        a, b = pairs[int(np.argmax(reject))]
        subsets = Decision(REFUTED, fig + f": k={label.get(b, b)} significantly below k={a}")
    elif rates[10**6] == 0:
        subsets = Decision(INCONCLUSIVE, fig + ": no transfer with all positions")
    elif smallest <= n_positions / 2:
        subsets = Decision(REFUTED, fig + ": a minority of positions already gives half")
    else:
        subsets = Decision(HOLDS, fig)
    return _verdict("C8", model, protocol, combine(demos, subsets), rates_by_k={
        str(label.get(k, k)): rates[k] for k in ks})  # fmt: skip


def binom_two_sample_less(k1: int, n1: int, k2: int, n2: int) -> float:
    """One-sided Fisher exact p-value that rate 1 (k1/n1) is below rate 2 (k2/n2)."""
    from scipy.stats import fisher_exact

    return float(fisher_exact([[k1, n1 - k1], [k2, n2 - k2]], alternative="less").pvalue)


def c9(controls: Sequence[Cell], model: str, protocol: str) -> Verdict:
    """C9: every control (random source, norm-matched noise, shuffled roles) transfers <= 10%
    (one-sided 95% upper bound) at the best layer."""
    return _verdict("C9", model, protocol, at_most(list(controls), ZERO_MARGIN))


def c10(matrix: Sequence[Cell], model: str, protocol: str) -> Verdict:
    """C10: only a minority of ordered task pairs transfer >= 50% at the best layer. A pair
    transfers confidently if its Wilson lower bound is >= 0.5 and confidently does not if its
    upper bound is < 0.5. Holds if more than half of the pairs with valid trials confidently do
    not transfer; refuted if at least half confidently do; else inconclusive (also with fewer
    than 10 pairs). The point fraction >= 50% is reported as the paper's figure."""
    rows = [c for c in matrix if c.n]
    point = sorted(c.pair for c in rows if c.rate >= 0.5)
    yes = [c.pair for c in rows if c.ci_low >= 0.5]
    no = [c.pair for c in rows if c.ci_high < 0.5]
    fig = (f"{len(point)} of {len(rows)} pairs >= 50% (point): {', '.join(point) or 'none'}; "
           f"confidently >= 50%: {len(yes)}, confidently < 50%: {len(no)}")  # fmt: skip
    if len(rows) < 10:
        d = Decision(INCONCLUSIVE, fig + " (fewer than 10 pairs with valid trials)")
    elif len(no) > len(rows) / 2:
        d = Decision(HOLDS, fig)
    elif len(yes) >= len(rows) / 2:
        d = Decision(REFUTED, fig)
    else:
        d = Decision(INCONCLUSIVE, fig + ": too few trials per pair to tell")
    return _verdict("C10", model, protocol, d, n_pairs=len(rows), transferring=point)
