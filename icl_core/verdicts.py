"""The claims' decision logic (SPEC 7, issue 13): thresholds and rules fixed here, before any
run, and the verdict of each claim on one model from tidy cells or paired trial records.

Error control: every rule is an e-value test (`icl_core.decisions`, `icl_core.stats.sequential`)
or a fixed-N exact test, so a verdict errs with probability <= ALPHA in each direction, also
when the suite draws trials in rounds until a rule decides (anytime validity). A choice among
layers (a best layer) is paid for by Bonferroni over the layers. Patching claims read trials
whose clean source prompt was answered correctly (the mechanism, not the model's competence).
Power per rule: claims/README.md. Each claim's statement, paper figure and measurement are
declared in `icl_core.claim_registry`, which calls these rules.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence

import numpy as np

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
from icl_core.design import (
    DEMO_SINGLE_SETS,
    HEADLINE,
    SUBSET_DRAWS,
    SUBSET_KS,
    subset_set,
)
from icl_core.records import Cell, TrialRecord, Verdict
from icl_core.stats import (
    binom_test_greater,
    binom_test_less,
    wilson_interval,
)
from icl_core.stats.sequential import e_above, e_below, projected_trials, rate_e_values

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


def c2(multi: Sequence[Cell], model: str, protocol: str, pair=HEADLINE) -> Verdict:
    """C2: holds if at some layer L all_demo transfer is >= 50% and input_only <= 10% (each
    e-value >= n_layers / alpha: Bonferroni over the layer choice); refuted if at every layer
    all_demo is shown < 50% or input_only > 10% (each at 2 / alpha, intersection over layers).
    Open: both cells of every layer that is neither."""
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
    fig = (f"{name}: best layer {L}: all_demo {d}, input_only {i if i else 'not measured'}; "
           f"e = {best[3]:.3g} (needs {hold_at:.3g})")  # fmt: skip
    if best[3] >= hold_at:
        dec = Decision(HOLDS, fig, d, e_values={"holds": best[3], "threshold": hold_at})
    elif all(r[4] >= refute_at for r in rows):
        weakest = min(rows, key=lambda r: r[4])
        dec = Decision(REFUTED, fig + f": every layer shown below {HIGH_TRANSFER:.0%} (or "
                       f"input_only above {ZERO_MARGIN:.0%}); weakest e = {weakest[4]:.3g}",
                       d, e_values={"refute_min": weakest[4], "threshold": refute_at})  # fmt: skip
    else:
        need = projected_trials({1.0: d.k, 0.0: d.n - d.k}, HIGH_TRANSFER, hold_at, "above")
        dec = Decision(INCONCLUSIVE, fig + f"; {len(open_) // 2 or len(open_)} layer(s) "
                       "undecided" + (f", about {need} more counted trials" if need else ""),
                       d, tuple(open_), {"holds": best[3], "threshold": hold_at},
                       need)  # fmt: skip
    return _verdict("C2", model, protocol, dec, best_layer=L, rate=d.rate, k=d.k, n=d.n,
                    ci=[d.ci_low, d.ci_high])  # fmt: skip


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
    needs = [projected_trials({1.0: c.k, 0.0: c.n - c.k}, ZERO_MARGIN, len(cells) / ALPHA,
                              "above") for c in cells]  # fmt: skip
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


def _paired_outcomes(records: Sequence[TrialRecord], pair: str, position_set: str,
                     layers: Sequence[int], source_clean_only: bool) -> np.ndarray:  # fmt: skip
    """[layers, trials] 0/1 transfer of the trials (seeds) measured at every one of `layers`."""
    by: dict[tuple[int, int], bool] = {}
    for r in records:
        if (r.pair == pair and r.position_set == position_set and r.outcome is not None
                and (r.source_clean_correct or not source_clean_only)):  # fmt: skip
            by[(r.layer, r.seed)] = r.outcome == "transfer"
    seeds = sorted({s for _, s in by})
    seeds = [s for s in seeds if all((L, s) in by for L in layers)]
    return np.array([[by[(L, s)] for s in seeds] for L in layers], dtype=int).reshape(
        len(layers), len(seeds))  # fmt: skip


def _diff_counts(x: np.ndarray, y: np.ndarray) -> dict[float, int]:
    """Counts of the paired differences x - y (values -1, 0, 1)."""
    c = Counter((x - y).tolist())
    return {float(v): int(c.get(v, 0)) for v in (-1, 0, 1)}


def _near_every_layer(out: np.ndarray, i: int, level: float) -> tuple[bool, float]:
    """Whether layer i is shown within DEPTH_DELTA of every other layer (each paired e-value
    against rate_L - rate_i >= delta reaches `level`) and transfers > 10% (e-value >= level);
    returns (shown, the smallest of those e-values)."""
    k, n = int(out[i].sum()), out.shape[1]
    e_min = rate_e_values(k, n, ZERO_MARGIN)[1]
    for j in range(out.shape[0]):
        if j != i:
            e_min = min(e_min, e_below(_diff_counts(out[j], out[i]), DEPTH_DELTA, -1.0, 1.0))
    return e_min >= level, e_min


def _below_some_layer(out: np.ndarray, i: int, others: Sequence[int], level: float) -> float:
    """The largest paired e-value that some layer of `others` beats layer i by > delta."""
    return max((e_above(_diff_counts(out[j], out[i]), DEPTH_DELTA, -1.0, 1.0)
                for j in others if j != i), default=0.0)  # fmt: skip


def _sweep(multi_records, pair, n_layers, layers, source_clean_only):
    name = pair_name(pair)
    layers = list(range(n_layers)) if layers is None else sorted(layers)
    out = _paired_outcomes(multi_records, name, "all_demo", layers, source_clean_only)
    return name, layers, out


def c3(multi_records: Sequence[TrialRecord], model: str, protocol: str, n_layers: int,
       pair=HEADLINE, layers: Sequence[int] | None = None,
       source_clean_only: bool = True) -> Verdict:  # fmt: skip
    """C3 (a best layer lies near 30% depth), from all_demo transfer at every swept layer on
    the same trials: holds if some layer b at depth in [0.2, 0.4] transfers > 10% and is within
    delta = 0.15 of every layer (paired e-values, each >= |band| / alpha: Bonferroni over the
    choice of b); refuted if every band layer is more than delta below some layer (for each b
    an e-value >= (layers - 1) / alpha; intersection over b)."""
    name, layers, out = _sweep(multi_records, pair, n_layers, layers, source_clean_only)
    lo, hi = DEPTH_WINDOW
    band = [i for i, L in enumerate(layers) if lo <= L / n_layers <= hi]
    n = out.shape[1]
    details = dict(n=n, layers_swept=len(layers), band=[layers[i] for i in band])
    if not band or n == 0:
        why = f"{name}: {n} complete trials, {len(band)} swept layers in depth {lo}-{hi}"
        return _verdict("C3", model, protocol, Decision(INCONCLUSIVE, why), **details)
    rates = out.mean(axis=1)
    top = int(np.argmax(rates))
    details.update(best_layer=layers[top], depth=layers[top] / n_layers, k=int(out[top].sum()))
    swept = f" ({len(layers)} of {n_layers} layers swept)" if len(layers) < n_layers else ""
    curve = f"{name}: best layer {layers[top]}/{n_layers} ({int(out[top].sum())}/{n}){swept}, "
    hold_at, refute_at = len(band) / ALPHA, (len(layers) - 1) / ALPHA
    shown = [(i, *_near_every_layer(out, i, hold_at)) for i in band]
    b, ok, e_b = max(shown, key=lambda t: t[2])
    below = [_below_some_layer(out, i, range(len(layers)), refute_at) for i in band]
    details.update(band_layer=layers[b], e_holds=e_b, e_refute_min=min(below))
    if ok:
        d = Decision(HOLDS, curve + f"band layer {layers[b]} ({int(out[b].sum())}/{n}) is "
                     f"within {DEPTH_DELTA} of every layer (e = {e_b:.3g} >= {hold_at:.3g})",
                     e_values={"holds": e_b, "threshold": hold_at})  # fmt: skip
    elif min(below) >= refute_at:
        d = Decision(REFUTED, curve + f"every layer in depth {lo}-{hi} is more than "
                     f"{DEPTH_DELTA} below some layer (smallest e = {min(below):.3g} >= "
                     f"{refute_at:.3g})", e_values={"refute_min": min(below),
                                                   "threshold": refute_at})  # fmt: skip
    else:
        d = Decision(INCONCLUSIVE, curve + f"band layer {layers[b]}: e = {e_b:.3g} < "
                     f"{hold_at:.3g}; refutation e = {min(below):.3g} < {refute_at:.3g}",
                     e_values={"holds": e_b, "refute_min": min(below)},
                     projected=_project(e_b, hold_at, n))  # fmt: skip
    return _verdict("C3", model, protocol, d, **details)


def _project(e_now: float, target: float, n: int) -> int | None:
    """Further trials at the observed log-growth of an e-value (None if it does not grow)."""
    if n == 0 or e_now <= 1.0:
        return None
    growth = np.log(e_now) / n
    return int(np.ceil((np.log(target) - np.log(e_now)) / growth))


def c3_peak(multi_records: Sequence[TrialRecord], model: str, protocol: str, n_layers: int,
            pair=HEADLINE, layers: Sequence[int] | None = None,
            source_clean_only: bool = True) -> Verdict:  # fmt: skip
    """C3-peak (the peak is at ~30% depth, not earlier): refuted if some layer at depth < 0.2
    transfers > 10% and is within delta of every layer (e-values >= |early| / alpha); holds if
    every layer below 0.2 is more than delta below some band layer (for each early layer an
    e-value >= |band| / alpha; intersection over early layers)."""
    name, layers, out = _sweep(multi_records, pair, n_layers, layers, source_clean_only)
    lo, hi = DEPTH_WINDOW
    early = [i for i, L in enumerate(layers) if L / n_layers < lo]
    band = [i for i, L in enumerate(layers) if lo <= L / n_layers <= hi]
    n = out.shape[1]
    if not early or not band or n == 0:
        why = f"{name}: {n} complete trials, {len(early)} early and {len(band)} band layers swept"
        return _verdict("C3-peak", model, protocol, Decision(INCONCLUSIVE, why), n=n)
    near = [(i, *_near_every_layer(out, i, len(early) / ALPHA)) for i in early]
    beaten = [_below_some_layer(out, i, band, len(band) / ALPHA) for i in early]
    e_ref = max(near, key=lambda t: t[2])
    fig = (f"{name}: {n} complete trials; earliest-layer candidate {layers[e_ref[0]]} "
           f"(e = {e_ref[2]:.3g}); weakest early layer beaten by a band layer: e = "
           f"{min(beaten):.3g}")  # fmt: skip
    if e_ref[1]:
        d = Decision(REFUTED, fig + f": layer {layers[e_ref[0]]} (depth < {lo}) is within "
                     f"{DEPTH_DELTA} of every layer", e_values={"refute": e_ref[2]})  # fmt: skip
    elif min(beaten) >= len(band) / ALPHA:
        d = Decision(HOLDS, fig + f": every layer below depth {lo} is more than {DEPTH_DELTA} "
                     "below a band layer", e_values={"holds_min": min(beaten)})  # fmt: skip
    else:
        d = Decision(INCONCLUSIVE, fig, e_values={"holds_min": min(beaten)},
                     projected=_project(min(beaten), len(band) / ALPHA, n))  # fmt: skip
    return _verdict("C3-peak", model, protocol, d, n=n)


def c4(per_model: dict[str, tuple[str, Verdict, Verdict]], family: str, protocol: str) -> Verdict:
    """C4: for the family, at least one model of the run where both C2 and C3 hold; refuted if
    every model of the family refutes C2 or C3. `per_model`: model -> (family, C2, C3)."""
    models = {m: v for m, v in per_model.items() if v[0] == family}
    statuses = {m: (v[1].status, v[2].status) for m, v in models.items()}
    figure = "; ".join(f"{m}: C2 {a}, C3 {b}" for m, (a, b) in statuses.items())
    if any(a == b == HOLDS for a, b in statuses.values()):
        status = HOLDS
    elif models and all(REFUTED in s for s in statuses.values()):
        status = REFUTED
    else:
        status = INCONCLUSIVE
    return Verdict("C4", f"family:{family}", protocol, status, figure or "no model", "",
                   {"models": list(models)})  # fmt: skip


def c5(tracing: Sequence[Cell], model: str, protocol: str, n_layers: int,
       query_set: str = "query_input_last",
       demo_sets: Sequence[str] = DEMO_SINGLE_SETS) -> Verdict:  # fmt: skip
    """C5: noise at the query token (`query_set`) leaves accuracy <= 50% (disruption >= 0.5)
    at every layer in the first half of depth, and at any single demo token (`demo_sets`)
    accuracy >= 90% (disruption <= 0.10) at every layer: a conjunction of two e-value rules
    (each refutes at alpha / 2). Accuracy over clean-correct prompts; every noise condition
    of the cells counts (rigorous: 3 sigma; paper: each of its scales)."""
    early = [c for c in _select(tracing, position_set=query_set) if c.layer / n_layers < 0.5]
    demos = [c for c in tracing if c.position_set in demo_sets]
    d = combine(at_most(early, 1 - QUERY_DISRUPTION, parts=2),
                at_least(demos, 1 - DEMO_DISRUPTION, parts=2))  # fmt: skip
    return _verdict("C5", model, protocol, d)


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


def _correlation_difference(x_rep, x_surf, y) -> float:
    if np.ptp(y) == 0 or np.ptp(x_rep) == 0 or np.ptp(x_surf) == 0:
        return float("nan")
    return float(np.corrcoef(x_rep, y)[0, 1] - np.corrcoef(x_surf, y)[0, 1])


C7_MIN_TASKS = 6  # a bootstrap over k tasks has C(2k - 1, k) distinct resamples: 462 at 6, 10 at 3


def c7(matrix: Sequence[Cell], similarities: Sequence[dict], model: str, protocol: str,
       seed: int = 0, n_boot: int = 2000) -> Verdict:  # fmt: skip
    """C7 (fixed N): r(representation, transfer) - r(surface, transfer) over ordered pairs,
    with a one-sided 95% percentile-bootstrap bound that resamples TASKS (a resample keeps
    every ordered pair of distinct drawn tasks): holds if the lower bound is > 0; refuted if
    the upper bound is < 0 (surface similarity predicts transfer better); no decision on fewer
    than `C7_MIN_TASKS` tasks, where the bootstrap is too coarse for a 5% bound."""
    rate = {c.pair: c.rate for c in matrix if c.n}
    rows = [s for s in similarities if f"{s['source_task']}->{s['target_task']}" in rate]
    tasks = sorted({s["source_task"] for s in rows} | {s["target_task"] for s in rows})
    if len(tasks) < C7_MIN_TASKS:
        return _verdict("C7", model, protocol, Decision(INCONCLUSIVE, f"{len(tasks)} tasks "
                        f"({len(rows)} pairs) with both a transfer rate and similarities (need >= "
                        f"{C7_MIN_TASKS} for a task bootstrap)"))  # fmt: skip
    index = {t: i for i, t in enumerate(tasks)}
    src = np.array([index[s["source_task"]] for s in rows])
    tgt = np.array([index[s["target_task"]] for s in rows])
    y = np.array([rate[f"{s['source_task']}->{s['target_task']}"] for s in rows])
    xr = np.array([s["representation"] for s in rows])
    xs = np.array([s["surface"] for s in rows])
    observed = _correlation_difference(xr, xs, y)
    if np.isnan(observed):
        return _verdict("C7", model, protocol, Decision(INCONCLUSIVE, "transfer or a "
                        f"similarity is constant over {len(rows)} pairs"))  # fmt: skip
    rng = np.random.default_rng(seed)
    diffs = []
    for _ in range(n_boot):
        draw = rng.integers(0, len(tasks), len(tasks))
        mult = np.bincount(draw, minlength=len(tasks))
        w = mult[src] * mult[tgt]  # each ordered pair of distinct drawn tasks, with multiplicity
        idx = np.repeat(np.arange(len(rows)), w)
        if len(idx) >= 4:
            diffs.append(_correlation_difference(xr[idx], xs[idx], y[idx]))
    diffs = np.array([d for d in diffs if not np.isnan(d)])
    lo, hi = np.percentile(diffs, [100 * ALPHA, 100 * (1 - ALPHA)])
    fig = (
        f"r(representation) - r(surface) = {observed:.2f}, one-sided 95% bounds "
        f"[{lo:.2f}, {hi:.2f}] (task bootstrap, {len(tasks)} tasks, {len(rows)} pairs)"
    )
    if lo > 0:
        d = Decision(HOLDS, fig)
    elif hi < 0:
        d = Decision(REFUTED, fig + ": surface similarity predicts transfer better")
    else:
        d = Decision(INCONCLUSIVE, fig)
    return _verdict(
        "C7",
        model,
        protocol,
        d,
        difference=observed,
        bounds=[float(lo), float(hi)],
        n_pairs=len(rows),
        n_tasks=len(tasks),
    )


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


def c9(controls: Sequence[Cell], model: str, protocol: str) -> Verdict:
    """C9: every control (random source, norm-matched noise, shuffled roles) transfers <= 10%
    at the best layer (e-values: every cell at 1 / alpha; refuted at cells / alpha)."""
    return _verdict("C9", model, protocol, at_most(list(controls), ZERO_MARGIN))


def c10(matrix: Sequence[Cell], model: str, protocol: str,
        qualified: Sequence[str] | None = None) -> Verdict:  # fmt: skip
    """C10 (fixed N, exact): over the ordered pairs qualified before the run (`qualified`;
    default every pair) with >= MIN_MATRIX_TRIALS counted trials, a one-sided exact binomial
    test per pair against 50%, Bonferroni over those pairs. Holds if more than half of them are
    shown below 50%; refuted if at least half are shown at or above 50%; else inconclusive,
    projecting the counted trials still missing for every qualified pair to be tested (a
    fixed-N test: none once all are)."""
    rows = [c for c in matrix if c.n and (qualified is None or c.pair in qualified)]
    tested = [c for c in rows if c.n >= MIN_MATRIX_TRIALS]
    counted = {c.pair: c.n for c in rows}
    missing = sum(max(0, MIN_MATRIX_TRIALS - counted.get(pair, 0))
                  for pair in (qualified if qualified is not None else counted))  # fmt: skip
    m = max(len(tested), 1)
    no = [c.pair for c in tested if binom_test_less(c.k, c.n, 0.5) <= ALPHA / m]
    yes = [c.pair for c in tested if binom_test_greater(c.k, c.n, 0.5) <= ALPHA / m]
    point = sorted(c.pair for c in tested if c.rate >= 0.5)
    total = len(qualified) if qualified is not None else len(rows)
    fig = (f"{len(tested)} of {total} qualified pairs with >= {MIN_MATRIX_TRIALS} counted "
           f"trials; {len(point)} >= 50% (point): {', '.join(point) or 'none'}; shown < 50%: "
           f"{len(no)}, shown >= 50%: {len(yes)} (exact binomial, Bonferroni over "
           f"{len(tested)})")  # fmt: skip
    if total < 2:
        d = Decision(INCONCLUSIVE, fig + ": fewer than 2 qualified pairs")
    elif len(no) > total / 2:
        d = Decision(HOLDS, fig)
    elif len(yes) >= total / 2:
        d = Decision(REFUTED, fig)
    else:
        d = Decision(INCONCLUSIVE, fig, projected=missing or None)
    return _verdict(
        "C10", model, protocol, d, n_pairs=total, n_tested=len(tested), transferring=point
    )
