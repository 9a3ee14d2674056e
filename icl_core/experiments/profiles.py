"""Run profiles (SPEC 7): how many trials, which pairs and models. Every layer is always swept.

`ci` fits the project's CI on a 2-core CPU (one small model, small N: many claims come out
inconclusive there, by design, rather than passing on too little data). `full` is the profile
for a verdict on the three default zoo models: 40 trials for the headline multi-position sweep
(C2, C3) and 15 per control (C9), each topped up until 50 trials count (SPEC: N >= 50); the
single-position sweep (20), thresholds (15) and pair matrix (3 per pair) are not topped up.
Measured on the 2-core CPU with 2 xdist workers: 74 minutes for the 40-trial profile (CPU
shared with another run), then 51 minutes for the top-up. `paper` names the paper's four
models (N = 50 everywhere; realistic only with a GPU and the weights in the local HF cache).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from icl_core.errors import UnknownNameError
from icl_core.models.registry import DEFAULT_MODELS, PAPER_MODELS
from icl_core.tasks import PAPER_TASKS

HEADLINE = ("uppercase", "repeat_word")


@dataclass(frozen=True)
class Profile:
    """Trial counts are per (pair or task) and condition, before exclusions. `min_counted`:
    under the rigorous protocol, the multi-position sweep (C2, C3) and the controls (C9) draw
    further trials for a pair until this many count (valid, clean source answered correctly),
    within MAX_DRAW_FACTOR x their trial count (`ModelSuite`); 0: no top-up."""

    name: str
    models: tuple[str, ...]
    sweep_pairs: tuple[tuple[str, str], ...]
    n_multi: int
    n_single: int
    n_controls: int
    n_thresholds: int
    matrix_tasks: tuple[str, ...]
    n_matrix: int
    tracing_tasks: tuple[str, ...]
    n_tracing: int
    n_probe_prompts: int
    n_similarity_prompts: int
    seed: int = 0
    min_counted: int = 0  # rigorous multi sweep and controls: top up to this many counted trials

    def as_dict(self) -> dict:
        return asdict(self)


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("ci", ("smollm2-135m",), (HEADLINE,), n_multi=12, n_single=8, n_controls=8,
                n_thresholds=6, matrix_tasks=PAPER_TASKS, n_matrix=2,
                tracing_tasks=("uppercase",), n_tracing=6, n_probe_prompts=10,
                n_similarity_prompts=6),
        Profile("full", DEFAULT_MODELS, (HEADLINE,), n_multi=40, n_single=20, n_controls=15,
                n_thresholds=15, matrix_tasks=PAPER_TASKS, n_matrix=3,
                tracing_tasks=("uppercase",), n_tracing=8, n_probe_prompts=20,
                n_similarity_prompts=12, min_counted=50),
        Profile("paper", tuple(m.name for m in PAPER_MODELS), (HEADLINE,), n_multi=50,
                n_single=50, n_controls=50, n_thresholds=50, matrix_tasks=PAPER_TASKS,
                n_matrix=50, tracing_tasks=("uppercase", "repeat_word", "antonym"),
                n_tracing=50, n_probe_prompts=50, n_similarity_prompts=50, min_counted=50),
    )
}  # fmt: skip


def get_profile(name: str) -> Profile:
    if name not in PROFILES:
        raise UnknownNameError("profile", name, PROFILES)
    return PROFILES[name]
