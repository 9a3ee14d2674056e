"""Rules on where in depth transfer peaks, from paired all_demo trials at every swept layer:
C3, C3-peak, and C4 (C2 and C3 per family)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from icl_core.decisions import (
    ALPHA,
    HOLDS,
    INCONCLUSIVE,
    REFUTED,
    Decision,
)
from icl_core.papers.cheng2026.design import (
    HEADLINE,
)
from icl_core.papers.cheng2026.verdicts.common import (
    DEPTH_DELTA,
    DEPTH_WINDOW,
    ZERO_MARGIN,
    _verdict,
    pair_name,
)
from icl_core.records import TrialRecord, Verdict
from icl_core.stats.sequential import e_above, e_below, rate_e_values


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
