"""Rules on the pair matrix: C7 (transfer follows representation, not surface) and C10 (a
minority of pairs transfer)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from icl_core.decisions import (
    ALPHA,
    HOLDS,
    INCONCLUSIVE,
    REFUTED,
    Decision,
)
from icl_core.papers.cheng2026.verdicts.common import MIN_MATRIX_TRIALS, _verdict
from icl_core.records import Cell, Verdict
from icl_core.stats import (
    binom_test_greater,
    binom_test_less,
)


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
    than `C7_MIN_TASKS` tasks, where the bootstrap is too coarse for a 5% bound. The figure
    names the matrix's tasks without similarities (every prompt excluded by layout)."""
    rate = {c.pair: c.rate for c in matrix if c.n}
    rows = [s for s in similarities if f"{s['source_task']}->{s['target_task']}" in rate]
    tasks = sorted({s["source_task"] for s in rows} | {s["target_task"] for s in rows})
    with_sims = {s["source_task"] for s in similarities}
    unlaid = sorted({t for c in matrix for t in c.pair.split("->")} - with_sims)
    left_out = f"; no similarities for {', '.join(unlaid)}" if similarities and unlaid else ""
    if len(tasks) < C7_MIN_TASKS:
        return _verdict("C7", model, protocol, Decision(INCONCLUSIVE, f"{len(tasks)} tasks "
                        f"({len(rows)} pairs) with both a transfer rate and similarities (need >= "
                        f"{C7_MIN_TASKS} for a task bootstrap){left_out}"))  # fmt: skip
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
        f"{left_out}"
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
