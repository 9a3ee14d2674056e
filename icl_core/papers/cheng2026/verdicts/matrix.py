"""Rules on the pair matrix: C7 (transfer follows representation, not surface) and C10 (a
minority of pairs transfer)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from icl_core.decisions import (
    ALPHA,
    HOLDS,
    INCONCLUSIVE,
    REFUTED,
    Decision,
)
from icl_core.papers.cheng2026.profiles import QUALIFYING_ACCURACY
from icl_core.papers.cheng2026.verdicts.common import MIN_MATRIX_TRIALS, _verdict
from icl_core.records import Cell, Verdict
from icl_core.stats.sequential import rate_e_values, rate_projected_trials


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
    names the matrix's tasks without similarities (every prompt excluded by layout) and, when
    inconclusive, the tasks that would decide at the observed difference (`projected_tasks`)."""
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
    projected = None
    if lo > 0:
        d = Decision(HOLDS, fig)
    elif hi < 0:
        d = Decision(REFUTED, fig + ": surface similarity predicts transfer better")
    else:
        projected = _c7_projected_tasks(observed, lo, hi, len(tasks))
        d = Decision(INCONCLUSIVE, fig + (f": about {projected} tasks with counted trials would "
                     "exclude 0 at this difference" if projected else ""))  # fmt: skip
    return _verdict(
        "C7",
        model,
        protocol,
        d,
        difference=observed,
        bounds=[float(lo), float(hi)],
        n_pairs=len(rows),
        n_tasks=len(tasks),
        projected_tasks=projected,
    )


def _c7_projected_tasks(observed: float, lo: float, hi: float, n_tasks: int) -> int | None:
    """Tasks in all for C7's bound on the side its estimate points to, to exclude 0, if the
    bound's distance from the estimate shrinks as 1 / sqrt(tasks) (None: over 100 times
    `n_tasks`, an estimate near 0). A projection for the report, never a rule: C7 is fixed-N."""
    width = hi - observed if observed < 0 else observed - lo
    if width <= 0 or abs(observed) * 10 < width:  # beyond 100x the tasks: no useful figure
        return None
    return math.ceil(n_tasks * (width / abs(observed)) ** 2)


C10_MARGIN = 0.5  # "a pair transfers": its rate is at least this


def _c10_projection(open_: Sequence[Cell], need: int, side: str, at: float) -> int | None:
    """Further counted trials per pair for `need` more of the `open_` pairs to be shown on
    `side` of C10_MARGIN at e-value `at`, each keeping its observed rate (None: fewer than
    `need` point that way); a pair below MIN_MATRIX_TRIALS needs at least the rest of those."""
    each = []
    for c in open_:
        x = rate_projected_trials(c.k, c.n, C10_MARGIN, at, side)
        if x is not None:
            each.append(max(x, MIN_MATRIX_TRIALS - c.n))
    return sorted(each)[need - 1] if 0 < need <= len(each) else None


def _unqualified(competence: Sequence[dict]) -> str:
    """What keeps pairs from qualifying: the tasks at QUALIFYING_ACCURACY and the nearest
    below it ("" without competence rows)."""
    if not competence:
        return ""

    def named(rows):
        return ", ".join(f"{r['task']} {r['k']}/{r['n']}" for r in rows) or "none"

    ok = [r for r in competence if r["accuracy"] >= QUALIFYING_ACCURACY]
    below = sorted((r for r in competence if r["accuracy"] < QUALIFYING_ACCURACY),
                   key=lambda r: -r["accuracy"])  # fmt: skip
    return (f" ({len(ok)} of {len(competence)} tasks at >= {QUALIFYING_ACCURACY:.0%} clean "
            f"accuracy: {named(ok)}; the nearest below: {named(below[:1])}): more matrix "
            "trials cannot decide C10 on this model")  # fmt: skip


def c10(matrix: Sequence[Cell], model: str, protocol: str,
        qualified: Sequence[str] | None = None,
        competence: Sequence[dict] = ()) -> Verdict:  # fmt: skip
    """C10 (anytime-valid): over the m ordered pairs qualified before the run (`qualified`;
    default every pair with a trial), a pair is shown below 50% (or at or above) when it has
    >= MIN_MATRIX_TRIALS counted trials and its e-value for that side reaches m / alpha
    (Bonferroni over the pairs). Holds if more than half the m pairs are shown below; refuted
    if at least half are shown at or above; else inconclusive, open on the pairs shown neither
    way, projecting the further counted trials per pair the nearer decision needs. A wrong
    "holds" needs a pair at >= 50% shown below, a wrong "refuted" a pair below 50% shown
    above: each at most alpha, whatever the stopping rule (C10's rounds stop on outcomes).
    `competence` (rows with task, k, n, accuracy: the clean accuracy that qualified the pairs)
    names, when fewer than 2 pairs qualify, how far the tasks are from qualifying."""
    rows = [c for c in matrix if c.n and (qualified is None or c.pair in qualified)]
    total = len(qualified) if qualified is not None else len(rows)
    at = max(total, 1) / ALPHA
    no, yes, open_ = [], [], []
    for c in rows:
        below, above = rate_e_values(c.k, c.n, C10_MARGIN)
        shown = c.n >= MIN_MATRIX_TRIALS
        (no if shown and below >= at else yes if shown and above >= at else open_).append(c)
    point = sorted(c.pair for c in rows if c.rate >= C10_MARGIN)
    fig = (f"{len(no)} of {total} qualified pairs shown < 50%, {len(yes)} shown >= 50% (e >= "
           f"{at:.3g} = {total} pairs / {ALPHA}, >= {MIN_MATRIX_TRIALS} counted); "
           f"{len(point)} >= 50% (point): {', '.join(point) or 'none'}")  # fmt: skip
    if total < 2:
        d = Decision(
            INCONCLUSIVE, fig + ": fewer than 2 qualified pairs" + _unqualified(competence)
        )
    elif len(no) > total / 2:
        d = Decision(HOLDS, fig, e_values={"threshold": at})
    elif len(yes) >= total / 2:
        d = Decision(REFUTED, fig, e_values={"threshold": at})
    else:
        ways = [_c10_projection(open_, total // 2 + 1 - len(no), "below", at),
                _c10_projection(open_, -(-total // 2) - len(yes), "above", at)]  # fmt: skip
        projected = min((x for x in ways if x is not None), default=None)
        undrawn = total - len(rows)  # qualified pairs without a counted trial point nowhere
        d = Decision(INCONCLUSIVE, fig + f"; {len(open_) + undrawn} pairs undecided",
                     open=tuple(open_), projected=projected)  # fmt: skip
    return _verdict("C10", model, protocol, d, n_pairs=total, n_shown_below=len(no),
                    n_shown_above=len(yes), transferring=point)  # fmt: skip
