"""C5's causal tracing with rounds: a first run of `n_tracing` prompts per task at the query's
and every single demo position, every layer; then, while C5 is undecided, rounds of fresh
prompts on the cells it still needs only (`top_up.c5`: the one nearest to a refutation where a
cell points to one, else every undecided cell), up to `cap_tracing` counted per task. Stopping
looks at outcomes; valid because C5's rule is anytime-valid (`verdicts.c5`)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from icl_core.experiments import rounds
from icl_core.experiments.tracing import TracingConfig, run_tracing
from icl_core.papers.cheng2026 import top_up
from icl_core.papers.cheng2026.design import DEMO_SINGLE_SETS
from icl_core.records import TrialRecord
from icl_core.tasks import derive_seed

if TYPE_CHECKING:
    from icl_core.papers.cheng2026.suite import ModelSuite


def c5_tracing(suite: ModelSuite) -> list[TrialRecord]:
    """The rigorous protocol's tracing records: the first run (noise at 3 x the layer's
    activation std), then while C5 is undecided and `profile.cap_tracing` allows (none at 0),
    rounds (seeds derived from the profile's seed and "tracing") on the (position set, layer)
    cells of each task C5 still needs (`top_up.c5`), each round a stored unit keeping the first
    run's noise scale (`TracingConfig.scale_seed`)."""
    p = suite.profile
    cfg = TracingConfig(p.tracing_tasks, ("query_input_last",) + DEMO_SINGLE_SETS, None,
                        p.n_tracing, p.seed, protocol=suite.protocol)  # fmt: skip
    records = run_tracing(suite.lm, cfg, suite.store, suite.progress)
    if not p.cap_tracing:
        return records

    def batch(pairs, n, seed, conditions) -> list[TrialRecord]:
        rnd = replace(cfg, tasks=tuple(t for _, t in pairs), n_trials=n, seed=seed,
                      conditions=conditions, scale_seed=cfg.seed)  # fmt: skip
        return run_tracing(suite.lm, rnd, suite.store, suite.progress)

    pairs = [("noise", task) for task in p.tracing_tasks]
    return rounds.sequential(batch, records, pairs, p.n_tracing, p.cap_tracing, p.round_size,
                             derive_seed(p.seed, "tracing"), top_up.c5(suite))  # fmt: skip
