"""C6's rounds: the probes of the first run (`ModelSuite.probes`), refitted once on its training
half, score rounds of fresh held-out prompts while C6 is undecided. Stopping looks at outcomes;
valid because C6's rule is anytime-valid and the probes stay fixed (`verdicts.c6`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from icl_core.decisions import INCONCLUSIVE
from icl_core.experiments.probe_states import collect_states
from icl_core.experiments.probes import fit_bank_probes, score_fresh_prompts
from icl_core.papers.cheng2026 import verdicts as V
from icl_core.stats import wilson_interval
from icl_core.tasks import PAPER_TASKS
from icl_core.tasks.sources import SAMPLED_DEMOS

if TYPE_CHECKING:
    from icl_core.papers.cheng2026.suite import ModelSuite


def c6_rounds(suite: ModelSuite) -> list[dict]:
    """C6's cells: each probe at the best layer, last demo token. Under the rigorous protocol,
    while C6 is undecided and fewer than `profile.cap_probe_prompts` prompts per task are held
    out: the first run's probes, refitted once on its training half (stored), score rounds of
    `n_probe_prompts` fresh prompts per task, each round its own stored unit."""
    p, layer, position = suite.profile, suite.best_layer, "last_demo_token"
    first = [r for r in suite.probes if r["layer"] == layer and r["position"] == position]
    held = p.n_probe_prompts // 2  # per task, in the first run's held-out half
    if (
        suite.probe_protocol != "rigorous"
        or held + p.n_probe_prompts > p.cap_probe_prompts
        or V.c6(first, suite.model, suite.protocol, layer).status != INCONCLUSIVE
    ):
        return first  # fmt: skip
    base = {"tasks": list(PAPER_TASKS), "n_prompts": p.n_probe_prompts, "seed": p.seed,
            "layer": layer, "position": position}  # fmt: skip
    fitted = suite.stored("probe_fit", base, lambda: fit_bank_probes(collect_states(
        suite.lm, PAPER_TASKS, p.n_probe_prompts, (position,), SAMPLED_DEMOS, seed=p.seed,
        layers=(layer,)), layer, position, p.seed), code=("probes",))  # fmt: skip
    rows = [dict(r, k=fitted["test"][r["probe"]][0], n=fitted["test"][r["probe"]][1])
            for r in first]  # fmt: skip
    start = p.n_probe_prompts
    while held + p.n_probe_prompts <= p.cap_probe_prompts:
        config = dict(base, start=start)
        scored = suite.stored("probe_round", config, lambda start=start: score_fresh_prompts(
            suite.lm, fitted, PAPER_TASKS, start, p.n_probe_prompts, layer, position,
            p.seed), code=("probes",))  # fmt: skip
        rows = [dict(r, k=r["k"] + scored["correct"][r["probe"]], n=r["n"] + scored["n"])
                for r in rows]  # fmt: skip
        start, held = start + p.n_probe_prompts, held + p.n_probe_prompts
        if V.c6(rows, suite.model, suite.protocol, layer).status != INCONCLUSIVE:
            break
    return [dict(r, accuracy=r["k"] / r["n"], **dict(zip(("ci_low", "ci_high"),
                 wilson_interval(r["k"], r["n"]), strict=True))) if r["n"] else r
            for r in rows]  # fmt: skip
