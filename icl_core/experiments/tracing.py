"""Causal tracing by noise (claim C5): Gaussian noise added to the residual stream at one
position set and layer; accuracy of the target answer is recorded.

sigma = `sigma_factor` x the per-layer activation std (std over every position and dimension of
the clean residual stream at that layer, measured on `n_scale_prompts` prompts, at least 100).
Only prompts answered correctly when clean count (others are excluded as clean_target_wrong),
so disruption = 1 - accuracy under noise = (acc_clean - acc_noised) / acc_clean.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import torch

from icl_core.context_window import check_context
from icl_core.engine import generate
from icl_core.errors import InvalidChoiceError, LayoutError
from icl_core.experiments.units import get_or_compute_unit, run_units
from icl_core.kernels import Noise, noised_outputs
from icl_core.models.loading import LoadedModel
from icl_core.progress import Progress
from icl_core.prompts import build_layout, render
from icl_core.records import TrialRecord
from icl_core.replay import clean_prefill
from icl_core.scoring import layout_exclusion
from icl_core.tasks import PAPER_TASKS, derive_seed, sample_example
from icl_core.tasks.task import first_line
from icl_core.trials import ANSWER_MARGIN_TOKENS, answer_token_ids


@torch.inference_mode()
def layer_noise_scale(lm: LoadedModel, n_prompts: int = 100, seed: int = 0) -> list[float]:
    """Per-layer std of the clean residual stream over all positions and dimensions of
    `n_prompts` prompts of the paper's tasks (rigorous sampling)."""
    if n_prompts < 100:
        raise InvalidChoiceError(f"n_prompts={n_prompts}: the noise scale needs >= 100 prompts")
    sums = torch.zeros(lm.info.n_layers, dtype=torch.float64)
    sq = torch.zeros_like(sums)
    count = 0
    for i in range(n_prompts):
        task = PAPER_TASKS[i % len(PAPER_TASKS)]
        ex = sample_example(task, seed=derive_seed(seed, f"scale:{i}"))
        ids = lm.tokenizer(render(ex).text)["input_ids"]
        states = clean_prefill(lm.model, ids).states
        for layer, h in states.items():
            h = h.double()
            sums[layer] += h.sum()
            sq[layer] += (h * h).sum()
        count += states[0].numel()
    mean = sums / count
    return ((sq / count - mean * mean).clamp_min(0).sqrt()).tolist()


def stored_noise_scale(lm: LoadedModel, store, seed: int) -> list[float]:
    """`layer_noise_scale` (100 prompts) once per model setup and seed via `store` (None: no
    caching): the one key rigorous tracing and the paper's sigma3 ablation share."""
    if store is None:
        return layer_noise_scale(lm, seed=seed)
    return get_or_compute_unit(store, lm, "noise_scale", {"n_prompts": 100, "seed": seed},
                               lambda: layer_noise_scale(lm, seed=seed), ("tracing",))  # fmt: skip


_ROUND_FIELDS = ("conditions", "scale_seed")  # in a unit's key only when set (a round's)


@dataclass(frozen=True)
class TracingConfig:
    """Noise at `position_sets` x `layers` (None = all) of `n_trials` prompts per task, or at
    `conditions` ((position set, layer) pairs) where given (a later round's undecided cells).
    The noise std is `absolute_sigma`, else sigma_factor x layer_noise_scale measured with
    `scale_seed` (None: `seed`; a round keeps its first run's scale)."""

    tasks: tuple[str, ...]
    position_sets: tuple[str, ...]
    layers: tuple[int, ...] | None = None
    n_trials: int = 10
    seed: int = 0
    k: int = 5
    sigma_factor: float = 3.0
    absolute_sigma: float | None = None
    template: str = "paper"
    protocol: str = "rigorous"
    experiment: str = "tracing"
    conditions: tuple[tuple[str, int], ...] | None = None
    scale_seed: int | None = None

    def unit(self, task: str) -> dict:
        """The store-key config of `task`'s unit (the optional round fields only when set)."""
        d = asdict(self)
        d["tasks"] = [task]
        return {k: v for k, v in d.items() if v is not None or k not in _ROUND_FIELDS}

    def sigma(self, scale: Sequence[float], layer: int) -> float:
        """The noise std at `layer`: `absolute_sigma`, else sigma_factor x scale[layer]."""
        if self.absolute_sigma is not None:
            return self.absolute_sigma
        return self.sigma_factor * scale[layer]

    @property
    def condition(self) -> str:
        if self.absolute_sigma is not None:
            return f"sigma={self.absolute_sigma:g}"
        return f"sigma={self.sigma_factor:g}std"


def run_task(
    lm: LoadedModel, cfg: TracingConfig, task: str, scale: list[float]
) -> list[TrialRecord]:
    """Every trial of one task under every (position set, layer) of `cfg`."""
    layers = cfg.layers if cfg.layers is not None else tuple(range(lm.info.n_layers))
    every = [(ps, layer) for ps in cfg.position_sets for layer in layers]
    conds = list(cfg.conditions) if cfg.conditions is not None else every
    info = lm.info
    records = []
    for i in range(cfg.n_trials):
        seed = derive_seed(cfg.seed, f"{cfg.experiment}:{task}:{i}")
        ex = sample_example(task, cfg.k, seed)
        base = dict(model=info.name, family=info.family, n_layers=info.n_layers,
                    protocol=cfg.protocol, experiment=cfg.experiment, source_task="noise",
                    target_task=task, seed=seed, condition=cfg.condition)  # fmt: skip
        try:
            layout = build_layout(render(ex, cfg.template), lm.tokenizer)
            budget = len(answer_token_ids(lm.tokenizer, layout, ex.answer)) + ANSWER_MARGIN_TOKENS
            check_context(lm.model, len(layout) + budget)
        except LayoutError as exc:
            records += [TrialRecord(**base, layer=L, position_set=ps, outcome=None,
                                    excluded=layout_exclusion(exc)) for ps, L in conds]  # fmt: skip
            continue
        clean = clean_prefill(lm.model, layout.input_ids)
        (g,) = generate(lm.model, lm.tokenizer, layout.input_ids, [[]], budget, clean=clean)
        base["target_prompt"] = layout.prompt.text
        if g.answer != ex.answer:
            records += [TrialRecord(**base, layer=L, position_set=ps, outcome=None,
                                    excluded="clean_target_wrong", output=g.answer)
                        for ps, L in conds]  # fmt: skip
            continue
        noises = [
            Noise(layout.position_set(ps), layer, cfg.sigma(scale, layer),
                  derive_seed(seed, f"{ps}:{layer}") % 2**63)
            for ps, layer in conds
        ]  # fmt: skip
        gens = noised_outputs(lm, layout.input_ids, noises, budget, clean)
        for (ps, layer), gen in zip(conds, gens, strict=True):
            outcome = "correct" if first_line(gen.text) == ex.answer else "incorrect"
            records.append(TrialRecord(**base, layer=layer, position_set=ps, outcome=outcome,
                                       output=gen.answer,
                                       target_positions=layout.position_set(ps)))  # fmt: skip
    return records


def run_tracing(lm: LoadedModel, cfg: TracingConfig, store=None,
                progress: Progress | None = None) -> list[TrialRecord]:  # fmt: skip
    """Every task of `cfg`, each computed once via `store` (None: no caching)."""

    scale_seed = cfg.seed if cfg.scale_seed is None else cfg.scale_seed
    sigma_scale = (
        [] if cfg.absolute_sigma is not None else stored_noise_scale(lm, store, scale_seed)
    )
    units = [(task, cfg.unit(task), lambda task=task: run_task(lm, cfg, task, sigma_scale))
             for task in cfg.tasks]  # fmt: skip
    return run_units(lm, cfg.experiment, units, store, progress, code=("tracing",))
