"""Compute a profile's rigorous experiments in parallel worker processes, before the claim
tests read them from the results store.

pytest-xdist can only hand whole models to workers (a model's experiments share one suite), so
three models on two workers leave one worker idle for the last model's whole run. Here the
work is split into jobs (one model's multi sweep of one pair, its single sweep of that pair,
its experiments at the best layer, its clean-only experiments) with their dependencies, and a
free worker always takes the ready job with the longest chain of estimated work behind it
(critical-path list scheduling). Every job computes through the store exactly the units the
tests would compute (`ModelSuite.multi_of` runs each pair on its own), so the tests then only
read; what a job fails to compute the tests compute (or report) themselves.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.pool
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from icl_core.papers.cheng2026.design import HEADLINE
from icl_core.papers.cheng2026.profiles import Profile
from icl_core.progress import print_progress

# Relative cost of a job per million parameters (from the 2026-12-02 partial full run: the
# two sweeps dominate; the best-layer experiments are single-layer; the clean ones cheaper).
STEP_COST = {"multi": 1.0, "single": 1.2, "at_best_layer": 0.6, "clean": 0.25}
AT_BEST_LAYER = ("competence", "controls", "thresholds", "similarity", "matrix", "c10_matrix",
                 "c6_probes")  # fmt: skip
CLEAN = ("tracing", "noise_scale", "probes")


@dataclass(frozen=True)
class Job:
    """One unit of scheduling: `steps` of one model's suite, run in order in one process.
    A step is a suite attribute name, or ("multi" | "single", pair)."""

    name: str
    model: str
    steps: tuple
    after: tuple[str, ...]
    cost: float


def plan(models: Sequence[str], profile: Profile, size_of: Callable[[str], float]) -> list[Job]:
    """The jobs of `models` under `profile` (rigorous protocol), costs scaled by a model's
    `size_of(model)` (a cost proxy; at least 1)."""
    jobs = []
    for m in models:
        size = max(size_of(m), 1.0)
        for pair in profile.sweep_pairs:
            tag = f"{pair[0]}->{pair[1]}"
            jobs.append(Job(f"{m} multi {tag}", m, (("multi", pair),), (),
                            STEP_COST["multi"] * size))  # fmt: skip
            jobs.append(Job(f"{m} single {tag}", m, (("single", pair),), (f"{m} multi {tag}",),
                            STEP_COST["single"] * size))  # fmt: skip
        head = f"{m} multi {HEADLINE[0]}->{HEADLINE[1]}"
        jobs.append(Job(f"{m} at best layer", m, AT_BEST_LAYER, (head,),
                        STEP_COST["at_best_layer"] * size))  # fmt: skip
        jobs.append(Job(f"{m} clean", m, CLEAN, (), STEP_COST["clean"] * size))
    return jobs


def critical_path(jobs: Sequence[Job]) -> dict[str, float]:
    """Each job's cost plus the longest chain of jobs that wait on it."""
    after: dict[str, list[str]] = {j.name: [] for j in jobs}
    for j in jobs:
        for a in j.after:
            after[a].append(j.name)
    cost = {j.name: j.cost for j in jobs}
    memo: dict[str, float] = {}

    def length(name: str) -> float:
        if name not in memo:
            memo[name] = cost[name] + max((length(d) for d in after[name]), default=0.0)
        return memo[name]

    return {j.name: length(j.name) for j in jobs}


_WORKER: dict = {}


def _init(profile: Profile, device: str, dtype: str) -> None:
    import torch

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops the workers
    torch.set_num_threads(1)
    _WORKER.update(profile=profile, device=device, dtype=dtype, loaded={})


def _run(job: Job) -> float | str:
    """Run `job` in this worker (models loaded once per worker). Returns its seconds, or the
    error's text (sent as text: not every exception pickles)."""
    from icl_core.models.loading import load_model
    from icl_core.papers.cheng2026.suite import ModelSuite
    from icl_core.store import ResultsStore

    start = time.perf_counter()
    loaded = _WORKER["loaded"]
    try:
        if job.model not in loaded:
            loaded[job.model] = load_model(job.model, device=_WORKER["device"],
                                           dtype=_WORKER["dtype"])  # fmt: skip
        suite = ModelSuite(
            loaded[job.model], _WORKER["profile"], "rigorous", ResultsStore(), print_progress
        )
        for step in job.steps:
            if isinstance(step, tuple):
                kind, pair = step
                (suite.multi_of if kind == "multi" else suite.single_of)(pair)
            else:
                getattr(suite, step)
    except Exception as exc:  # reported by the parent; the tests meet the same error
        return f"{type(exc).__name__}: {exc}"
    return time.perf_counter() - start


def run_jobs(jobs: Sequence[Job], profile: Profile, device: str, dtype: str, workers: int,
             progress: Callable[[str], None],
             runner: Callable[[Job], float | str] = _run) -> dict[str, float | str]:  # fmt: skip
    """Run `jobs` on `workers` processes (spawned, one torch thread each), a ready job with the
    longest critical path first. Returns job -> seconds, or the error text of a job that
    failed (its dependents are not run: the tests compute or report them). A worker process
    that dies (killed, out of memory) fails the running and waiting jobs with that reason
    instead of waiting forever (the pool would replace the worker and lose its job). On
    KeyboardInterrupt the workers (which ignore SIGINT) are terminated at once and it is
    re-raised: finished units are in the store, the unit in progress is abandoned. `runner`:
    the job function (tests only)."""
    priority = critical_path(jobs)
    pending = {j.name: j for j in jobs}
    done: dict[str, float | str] = {}
    running: dict[str, multiprocessing.pool.AsyncResult] = {}
    ignore = signal.signal(signal.SIGINT, signal.SIG_IGN)  # inherited: workers ignore Ctrl-C
    try:
        pool = multiprocessing.get_context("spawn").Pool(workers, _init, (profile, device, dtype))
    finally:
        signal.signal(signal.SIGINT, ignore)
    started = _worker_pids(pool)
    try:
        while pending or running:
            failed = {n for n, v in done.items() if isinstance(v, str)}
            for name in [n for n, j in pending.items() if failed & set(j.after)]:
                done[name] = f"not run: waits on a failed job ({pending.pop(name).after})"
            ready = sorted((j for j in pending.values() if all(
                isinstance(done.get(a), float) for a in j.after)),
                key=lambda j: -priority[j.name])  # fmt: skip
            for job in ready[: workers - len(running)]:
                progress(f"schedule: start {job.name}")
                running[job.name] = pool.apply_async(runner, (pending.pop(job.name),))
            if not running:
                break
            time.sleep(0.2)
            for name in [n for n, r in running.items() if r.ready()]:
                done[name] = running.pop(name).get()
                if isinstance(done[name], str):
                    progress(f"schedule: FAILED {name}: {done[name]}")
                else:
                    progress(f"schedule: done {name} ({done[name]:.0f} s)")
            if not started <= _worker_pids(pool):  # a worker exited: the pool replaced it
                reason = "not run: a worker process died (killed, or out of memory?)"
                for name in [*running, *pending]:
                    done[name] = reason
                    progress(f"schedule: FAILED {name}: {reason}")
                pool.terminate()
                return done
    except KeyboardInterrupt:
        pool.terminate()
        raise
    pool.close()
    pool.join()
    return done


def _worker_pids(pool: multiprocessing.pool.Pool) -> set[int]:
    """The pool's current worker processes (its process list: multiprocessing has no public
    view; a worker that exits is replaced by a new process)."""
    return {p.pid for p in list(pool._pool)}  # type: ignore[attr-defined]
