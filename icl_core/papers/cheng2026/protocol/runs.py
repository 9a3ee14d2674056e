"""How a ModelSuite runs its experiments under the paper protocol and its ablations: the
release's patching and causal tracing (`protocol.patching`, `protocol.tracing`) with the protocol's
switched ingredients, on the layers the protocol reads, named by the reading protocol."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from icl_core.records import TrialRecord

if TYPE_CHECKING:
    from icl_core.papers.cheng2026.suite import ModelSuite


def patching(suite: ModelSuite, experiment: str, pairs, sets, layers, n: int,
             control: str) -> list[TrialRecord]:  # fmt: skip
    """The released protocol (fixed demos, absolute positions computed the paper's way,
    mean of 10 source prompts, lenient scorers) with this protocol's switched ingredients;
    trials = the first n of its 50 inputs. Sweeps (layers=None) of an ablation cover
    `suite.sweep_layers`; the paper's own sweep covers every layer, and so serves the ablations
    that switch no patching ingredient (layers, noise)."""
    from icl_core.papers.cheng2026.protocol import patching as P
    from icl_core.papers.cheng2026.protocol.ingredients import INGREDIENTS

    paper_sets = {"multi_sweep": P.PAPER_SET_NAMES, "single_sweep": P.PAPER_SINGLES}
    switched = {k: v for k, v in suite.spec.switched if k in INGREDIENTS}
    if layers is None and switched and len(suite.sweep_layers) < suite.n_layers:
        layers = suite.sweep_layers
    cfg = P.PaperPatchingConfig(experiment, tuple(pairs), paper_sets.get(experiment, sets),
                                layers, min(n, 50), seed=suite.profile.seed, control=control,
                                **switched)  # fmt: skip
    return as_read(suite, P.run_paper_patching(suite.lm, cfg, suite.store, suite.progress))


def tracing(suite: ModelSuite) -> list[TrialRecord]:
    """The release's noise (absolute scales) at the paper's single positions, with this
    protocol's demos, positions and scorer; layers as for the sweeps. noise=sigma3: one
    run per layer with sigma = 3 x that layer's activation std (the rigorous scale)."""
    from icl_core.papers.cheng2026.protocol import tracing as T

    p, spec = suite.profile, suite.spec
    switched = {k: v for k, v in spec.switched if k in ("demos", "positions", "scorer")}
    if spec.ingredient("noise") == "absolute":
        full = len(suite.sweep_layers) == suite.n_layers or not spec.is_ablation
        cfg = T.PaperTracingConfig(p.tracing_tasks, None if full else suite.sweep_layers,
                                   p.n_tracing, seed=p.seed, **switched)  # fmt: skip
        return as_read(suite, T.run_paper_tracing(suite.lm, cfg, suite.store, suite.progress))
    scale = suite.noise_scale
    return as_read(suite, [r for layer in suite.sweep_layers for r in T.run_paper_tracing(
        suite.lm, T.PaperTracingConfig(p.tracing_tasks, (layer,), p.n_tracing,
                                       (3.0 * scale[layer],), p.seed, **switched),
        suite.store, suite.progress)])  # fmt: skip


def as_read(suite: ModelSuite, records: list[TrialRecord]) -> list[TrialRecord]:
    """The records on `suite.sweep_layers`, named by the suite's protocol (a run shared with
    another protocol, e.g. "paper" and "paper+layers=all", carries the computing protocol's
    name)."""
    kept, protocol = set(suite.sweep_layers), suite.protocol
    return [r if r.protocol == protocol else dataclasses.replace(r, protocol=protocol)
            for r in records if r.layer in kept]  # fmt: skip
