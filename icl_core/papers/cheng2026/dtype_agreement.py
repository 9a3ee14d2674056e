"""Reduced-precision agreement study (SPEC 9, issue 17.4): the same trials of the headline
sweep at float32 and at a reduced dtype, side by side in one process.

The trials are those of the `multi_sweep` and `single_sweep` experiments' first round (same
seeds, same prompts) on the headline pair. Compared per (trial, condition): the record's
outcome or exclusion. A draw whose validity differs between the dtypes (clean target or
source answered differently) counts as a disagreement in every one of its conditions. The
verdicts C1, C2, C3 and C3-peak computed from each dtype's records by the suite's own rules
must be identical; at a study's N most of them are inconclusive at both dtypes, so this part
of the check is weak (it catches a reduced dtype that flips a decided cell, nothing finer).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

from icl_core.experiments.patching import PatchingConfig, run_pair
from icl_core.models.loading import load_model
from icl_core.papers.cheng2026 import verdicts as V
from icl_core.papers.cheng2026.design import HEADLINE, MULTI_SETS, SINGLE_SETS
from icl_core.records import TrialRecord, aggregate

SWEEPS = (("multi_sweep", MULTI_SETS), ("single_sweep", SINGLE_SETS))


@dataclass(frozen=True)
class Agreement:
    """`identical` of `compared` (trial, condition) results equal at both dtypes;
    `transfer_identical` of `transfer_compared`: the same restricted to results where either
    dtype transferred (the cells the claims turn on). Seconds: every draw of both sweeps at
    that dtype (clean runs and conditions), run back to back in one process."""

    model: str
    device: str
    dtype: str
    trials: int
    compared: int
    identical: int
    transfer_compared: int
    transfer_identical: int
    float32_s: float
    reduced_s: float
    verdicts_float32: dict[str, str]
    verdicts_reduced: dict[str, str]

    @property
    def fraction(self) -> float:
        return self.identical / self.compared if self.compared else float("nan")

    @property
    def speedup(self) -> float:
        return self.float32_s / self.reduced_s if self.reduced_s else float("nan")

    @property
    def verdicts_unchanged(self) -> bool:
        return self.verdicts_float32 == self.verdicts_reduced

    def as_dict(self) -> dict:
        return asdict(self) | {"fraction": round(self.fraction, 4),
                               "speedup": round(self.speedup, 2),
                               "verdicts_unchanged": self.verdicts_unchanged}  # fmt: skip


def _key(r: TrialRecord) -> tuple:
    return r.experiment, r.seed, r.position_set, r.layer


def _status(r: TrialRecord) -> tuple:
    return r.outcome, r.excluded, r.source_clean_correct


def _verdicts(records: list[TrialRecord], n_layers: int, model: str) -> dict[str, str]:
    multi = [r for r in records if r.experiment == "multi_sweep"]
    single = [r for r in records if r.experiment == "single_sweep"]
    multi_cells = aggregate(multi, source_clean_only=True)
    out = {
        "C1": V.c1(aggregate(single, source_clean_only=True), multi_cells, model, "rigorous"),
        "C2": V.c2(multi_cells, model, "rigorous", HEADLINE),
        "C3": V.c3(multi, model, "rigorous", n_layers, HEADLINE),
        "C3-peak": V.c3_peak(multi, model, "rigorous", n_layers, HEADLINE),
    }
    return {claim: v.status for claim, v in out.items()}


def agreement_study(
    model: str, n_trials: int, device: str = "auto", dtype: str = "bfloat16", seed: int = 0
) -> Agreement:
    """Run `n_trials` draws of each headline sweep at float32 and at `dtype`; compare."""
    runs: dict[str, list[TrialRecord]] = {}
    seconds: dict[str, float] = {}
    info = None
    for name in ("float32", dtype):
        lm = load_model(model, device=device, dtype=name)
        info = lm.info
        start = time.perf_counter()
        runs[name] = [r for experiment, sets in SWEEPS for r in run_pair(
            lm, PatchingConfig(experiment, (HEADLINE,), sets, n_trials=n_trials, seed=seed),
            *HEADLINE)]  # fmt: skip
        seconds[name] = time.perf_counter() - start
        del lm
    assert info is not None
    full, reduced = ({_key(r): r for r in runs[d]} for d in ("float32", dtype))
    compared = identical = t_compared = t_identical = 0
    for key, a in full.items():
        b = reduced[key]
        compared += 1
        same = _status(a) == _status(b)
        identical += same
        if "transfer" in (a.outcome, b.outcome):
            t_compared += 1
            t_identical += same
    return Agreement(
        model=info.name, device=info.device, dtype=dtype, trials=n_trials, compared=compared,
        identical=identical, transfer_compared=t_compared, transfer_identical=t_identical,
        float32_s=round(seconds["float32"], 2), reduced_s=round(seconds[dtype], 2),
        verdicts_float32=_verdicts(runs["float32"], info.n_layers, info.name),
        verdicts_reduced=_verdicts(runs[dtype], info.n_layers, info.name),
    )  # fmt: skip
