"""Benchmark of the engine: plain vs patched generation, naive vs optimized layer sweep.

All figures come from one run on one machine, so the ratios are comparable. Outcomes of the
naive and optimized sweeps are compared trial by trial (they must be identical).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import torch

from icl_core.engine import PromptEdit, generate
from icl_core.errors import InterventionError
from icl_core.kernels import Condition
from icl_core.models.loading import LoadedModel
from icl_core.prompts import build_layout, render
from icl_core.tasks import (
    PAPER_TASKS,
    derive_seed,
    draw_groups,
    sample_draw,
    sample_example,
    sample_pair,
)
from icl_core.trials import CleanRuns, PreparedPair, prepare_pair, run_conditions

# The benchmark's own fixed workload (not a paper's design, which may change): four single
# positions and four multi-position sets, every layer, so timings stay comparable across versions.
SWEEP_SETS = ("last_demo_token", "last_separator", "query_first", "query_last",
              "all_demo", "output_only", "input_only", "last_demo")  # fmt: skip


@dataclass(frozen=True)
class BenchResult:
    model: str
    device: str
    dtype: str
    threads: int
    n_prompts: int
    plain_trials_per_s: float
    patched_trials_per_s: float
    overhead_ratio: float  # plain time / patched time: 1.0 = patching is free
    sweep_trials: int
    sweep_conditions: int
    sweep_naive_s: float
    sweep_optimized_s: float
    sweep_speedup: float
    sweep_outcomes_identical: bool
    engine_conditions_per_s: float  # sweep conditions x trials / optimized seconds
    sweep_prompts: str  # "valid", or "untested" where the model fails the clean target task
    plain_prefill_tokens_per_s: float  # a plain batched forward of the sweep's target prompt
    fraction_of_bound: float  # the sweep's recomputed tokens per second / the plain forward's
    matrix_pair_trials_per_s: float  # pair-matrix trials (drawn) per second, all_demo, mid layer
    matrix_counted_pair_trials_per_s: float  # of which counted (valid, clean source right)
    matrix_group_pairs: int  # ordered pairs of the paper's word-task draw group
    matrix_own_runs_s: float  # its draws, each pair running its own clean prompts
    matrix_shared_runs_s: float  # the same draws, each draw's clean prompts run once
    matrix_sharing_speedup: float  # own / shared (issue 17.1)
    matrix_sharing_identical: bool  # the two give identical records

    def as_dict(self) -> dict:
        return asdict(self)


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench_generation(lm: LoadedModel, n_prompts: int = 12, seed: int = 0) -> tuple[float, float]:
    """(plain s, patched s) for n prompts at batch 1, 6 new tokens each; the patch replaces
    the demo output states at the middle layer with themselves plus zero (same work as any)."""
    layouts = [build_layout(render(sample_example("uppercase", seed=seed + i)), lm.tokenizer)
               for i in range(n_prompts)]  # fmt: skip
    mid = lm.info.n_layers // 2
    width = lm.info.hidden

    def run(patched: bool) -> None:
        for lay in layouts:
            pos = lay.position_set("output_only") if patched else ()
            edit = (
                [[PromptEdit(mid, pos, torch.zeros(len(pos), width), "add")]] if patched else [[]]
            )
            generate(lm.model, lm.tokenizer, lay.input_ids, edit, 6, reuse_prefix=False)

    run(False)  # warm-up
    plain, patched = [], []
    for _ in range(3):  # interleaved, so a load change hits both alike; best of three each
        plain.append(_timed(lambda: run(False)))
        patched.append(_timed(lambda: run(True)))
    return min(plain), min(patched)


def _sweep_pairs(lm: LoadedModel, n_trials: int, seed: int) -> tuple[list[PreparedPair], str]:
    """`n_trials` prepared uppercase -> repeat_word pairs from seeds seed.. seed+49: valid ones
    if any; else (a model that fails the clean task) untested ones, which time the same work."""
    for allow_wrong in (False, True):
        preps = []
        for s in range(seed, seed + 50):
            prep = prepare_pair(lm, sample_pair("uppercase", "repeat_word", seed=s),
                                allow_wrong=allow_wrong)  # fmt: skip
            if not prep.excluded:
                preps.append(prep)
            if len(preps) == n_trials:
                break
        if preps:
            return preps, "untested" if allow_wrong else "valid"
    raise InterventionError(
        f"{lm.info.name}: no uppercase -> repeat_word pair in 50 seeds can even be laid out "
        f"(layout errors, ambiguous answers); the sweep cannot be benchmarked"
    )


@dataclass(frozen=True)
class SweepTiming:
    """`bench_sweep`'s figures. `recomputed_tokens`: the work a patch cannot avoid, in
    token-forwards: per trial and condition (positions P, layer L) of a T-token target,
    (T - min P) x (N - L) / N (later positions, blocks from L; decoding and answer scoring not
    counted, so a fraction of bound from it understates the engine). `target_ids`: the first
    trial's target prompt (for the plain-forward bound)."""

    trials: int
    conditions: int
    naive_s: float
    optimized_s: float
    identical: bool
    prompts: str
    recomputed_tokens: float
    target_ids: tuple[int, ...]


def bench_sweep(lm: LoadedModel, n_trials: int = 2, seed: int = 0) -> SweepTiming:
    """A full single- and multi-position layer sweep of uppercase -> repeat_word, naive (one
    full forward per condition) vs optimized, outcomes compared trial by trial; prompts
    "valid" or "untested" (`_sweep_pairs`)."""
    preps, kind = _sweep_pairs(lm, n_trials, seed)
    n_layers = lm.info.n_layers
    conds = [Condition(ps, layer) for ps in SWEEP_SETS
             for layer in range(n_layers)]  # fmt: skip
    results = {}

    def naive() -> None:
        results["naive"] = [
            [r.outcome for r in run_conditions(lm, p, conds, naive=True)] for p in preps
        ]

    def optimized() -> None:
        results["opt"] = [[r.outcome for r in run_conditions(lm, p, conds)] for p in preps]

    t_opt = _timed(optimized)
    t_naive = _timed(naive)
    recomputed = sum(
        (len(p.target) - min(p.target.position_set(c.position_set))) * (n_layers - c.layer)
        for p in preps for c in conds
    ) / n_layers  # fmt: skip
    return SweepTiming(len(preps), len(conds), t_naive, t_opt, results["naive"] == results["opt"],
                       kind, recomputed, tuple(preps[0].target.input_ids))  # fmt: skip


def bench_plain_prefill(lm: LoadedModel, input_ids: Sequence[int], batch: int = 8) -> float:
    """Tokens per second of a plain forward (no cache, no hooks) of `batch` copies of one
    prompt: the bound a patching engine's recomputation is measured against. Best of three."""
    ids = torch.tensor([list(input_ids)] * batch, device=lm.model.device)
    with torch.inference_mode():
        lm.model(ids, use_cache=False)  # warm-up
        best = min(_timed(lambda: lm.model(ids, use_cache=False)) for _ in range(3))
    return batch * len(input_ids) / best


MATRIX_PAIRS = (("uppercase", "first_letter"), ("first_letter", "uppercase"),
                ("repeat_word", "first_letter"), ("first_letter", "repeat_word"))  # fmt: skip


def bench_matrix(lm: LoadedModel, n_trials: int = 2, seed: int = 0) -> tuple[float, int, int]:
    """(seconds, drawn, counted) of the pair matrix's work: all_demo at the middle layer on
    MATRIX_PAIRS, `n_trials` each, as the experiment runs it (no store)."""
    from icl_core.experiments.patching import PatchingConfig, run_patching
    from icl_core.experiments.rounds import trial_counts

    cfg = PatchingConfig("matrix", MATRIX_PAIRS, ("all_demo",), (lm.info.n_layers // 2,),
                         n_trials, seed)  # fmt: skip
    out: list = []
    seconds = _timed(lambda: out.extend(run_patching(lm, cfg)))
    counts = trial_counts(out)
    return seconds, counts["drawn"], counts["counted"]


def bench_shared_draws(lm: LoadedModel, n_draws: int = 2, seed: int = 0) -> dict:
    """The matrix's draws of the paper's word-task draw group (all_demo at the middle layer), run
    twice on the same prompts: each pair on its own clean runs, then each draw's clean runs
    shared by its pairs (`CleanRuns`, as the matrix runs them). Seconds of both, and whether
    the records are identical."""
    from icl_core.experiments.patching import PatchingConfig, conditions_of, run_trial

    group = next(g for g in draw_groups(PAPER_TASKS) if len(g) > 1)
    pairs = tuple(itertools.permutations(group, 2))
    cfg = PatchingConfig("matrix", pairs, ("all_demo",), (lm.info.n_layers // 2,), n_draws, seed,
                         shared_draws=True)  # fmt: skip
    conds = conditions_of(lm, cfg)
    seeds = [derive_seed(seed, f"bench-draw:{i}") for i in range(n_draws)]
    draws = [(s, sample_draw(group, cfg.k, s)) for s in seeds]
    out: dict[bool, list] = {}

    def run(shared: bool) -> None:
        out[shared] = []
        for s, draw in draws:
            runs = CleanRuns()
            for pair in draw.values():
                out[shared] += run_trial(lm, cfg, pair, s, conds, runs if shared else CleanRuns())

    own, shared = _timed(lambda: run(False)), _timed(lambda: run(True))
    return {"pairs": len(pairs), "own_s": own, "shared_s": shared,
            "identical": out[False] == out[True]}  # fmt: skip


def run_bench(lm: LoadedModel, n_prompts: int = 12, n_trials: int = 2) -> BenchResult:
    plain, patched = bench_generation(lm, n_prompts)
    sweep = bench_sweep(lm, n_trials)
    trials, n_conds, naive, opt = sweep.trials, sweep.conditions, sweep.naive_s, sweep.optimized_s
    bound = bench_plain_prefill(lm, sweep.target_ids)
    m_seconds, m_drawn, m_counted = bench_matrix(lm, n_trials)
    draws = bench_shared_draws(lm, n_trials)
    return BenchResult(
        model=lm.info.name,
        device=lm.info.device,
        dtype=lm.info.dtype,
        threads=torch.get_num_threads(),
        n_prompts=n_prompts,
        plain_trials_per_s=round(n_prompts / plain, 3),
        patched_trials_per_s=round(n_prompts / patched, 3),
        overhead_ratio=round(plain / patched, 3),
        sweep_trials=trials,
        sweep_conditions=n_conds,
        sweep_naive_s=round(naive, 2),
        sweep_optimized_s=round(opt, 2),
        sweep_speedup=round(naive / opt, 2),
        sweep_outcomes_identical=sweep.identical,
        engine_conditions_per_s=round(trials * n_conds / opt, 2),
        sweep_prompts=sweep.prompts,
        plain_prefill_tokens_per_s=round(bound, 1),
        fraction_of_bound=round(sweep.recomputed_tokens / opt / bound, 3),
        matrix_pair_trials_per_s=round(m_drawn / m_seconds, 3),
        matrix_counted_pair_trials_per_s=round(m_counted / m_seconds, 3),
        matrix_group_pairs=draws["pairs"],
        matrix_own_runs_s=round(draws["own_s"], 2),
        matrix_shared_runs_s=round(draws["shared_s"], 2),
        matrix_sharing_speedup=round(draws["own_s"] / draws["shared_s"], 2),
        matrix_sharing_identical=draws["identical"],
    )
