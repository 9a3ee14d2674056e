"""Causal tracing by noise under the paper's protocol (claim C5, SPEC 6): the release's absolute
noise scales (0.5, 1, 2, 5) added at the paper's single positions of its fixed-demo prompts,
the first query token ("query_first") and the last demo token ("last_demo_token", the token
holding the character before the final "\\nInput:"), both located the paper's way.

Ingredients (`protocol.ingredients`): demos (fixed | sampled), positions (paper |
roles: our layout's query_first and demo4_output_last), scorer (paper | strict: correctness
of the clean and noised outputs); the source ingredient does not apply (no source prompt).
Known deviation: prompts the clean model answers wrongly are excluded (clean_target_wrong)
and accuracy is over the rest, so 1 - accuracy is the disruption relative to clean accuracy
as the paper's text defines it; the release reported the absolute drop, which is that
disruption times the clean accuracy.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from icl_core.errors import InvalidChoiceError, LayoutError
from icl_core.experiments.units import run_units
from icl_core.kernels import Noise, noised_outputs
from icl_core.models.loading import LoadedModel
from icl_core.papers.cheng2026.protocol.ingredients import (
    INGREDIENTS,
    PaperWay,
    capture,
    check_count,
    clean_correct,
    prompt_example,
)
from icl_core.progress import Progress
from icl_core.records import TrialRecord
from icl_core.scoring import layout_exclusion
from icl_core.tasks import derive_seed

TRACING_POSITIONS = ("query_first", "last_demo_token")
paper_noise_sigmas = (0.5, 1.0, 2.0, 5.0)  # the release's absolute causal-tracing noise
ROLE_POSITIONS = {"query_first": "query_first", "last_demo_token": "demo4_output_last"}


@dataclass(frozen=True)
class PaperTracingConfig:
    """Noise of each of `sigmas` (absolute std) at TRACING_POSITIONS x `layers` (None: every
    layer) of the first `n_trials` prompts (the task's test inputs as queries)."""

    tasks: tuple[str, ...]
    layers: tuple[int, ...] | None = None
    n_trials: int = 10
    sigmas: tuple[float, ...] = paper_noise_sigmas
    seed: int = 0
    demos: str = "fixed"
    positions: str = "paper"
    scorer: str = "paper"
    experiment: str = "tracing"

    def __post_init__(self) -> None:
        if not self.sigmas or any(s <= 0 for s in self.sigmas):
            raise InvalidChoiceError(f"sigmas={self.sigmas}: need one or more positive scales")
        way = self.way  # validates the ingredients
        if self.n_trials < 1:
            raise InvalidChoiceError("n_trials must be >= 1")
        for task in self.tasks:
            way.check_task(task)
            check_count(task, self.n_trials, "n_trials")

    @property
    def way(self) -> PaperWay:
        """The ingredients and seed the prompts are built and scored with."""
        return PaperWay(self.demos, self.positions, self.scorer, seed=self.seed)

    @property
    def protocol(self) -> str:
        return self.way.protocol

    def unit(self, task: str) -> dict:
        d = asdict(self)
        d["tasks"] = [task]
        return d


def _positions(prompt, positions: str) -> dict[str, int]:
    if positions == "paper":
        return {"query_first": prompt.paper.query_first,
                "last_demo_token": prompt.paper.last_demo_token}  # fmt: skip
    if positions != INGREDIENTS["positions"][1]:
        raise InvalidChoiceError(f"positions={positions!r}; valid: {INGREDIENTS['positions']}")
    return {name: prompt.layout.position_set(role)[-1] for name, role in ROLE_POSITIONS.items()}


def run_task(lm: LoadedModel, cfg: PaperTracingConfig, task: str) -> list[TrialRecord]:
    """Every prompt of `task` under every (sigma, position, layer): outcome correct/incorrect
    for the task under the active scorer; excluded: layout_error, too_long, clean_target_wrong."""
    way = cfg.way
    n = lm.info.n_layers
    layers = cfg.layers if cfg.layers is not None else tuple(range(n))
    if any(not 0 <= x < n for x in layers):
        raise InvalidChoiceError(f"layers {layers} out of range: the model has {n} layers")
    conds = [(s, p, layer) for s in cfg.sigmas for p in TRACING_POSITIONS for layer in layers]
    records: list[TrialRecord] = []
    for i in range(cfg.n_trials):
        ex = prompt_example(way, task, i)
        seed = derive_seed(cfg.seed, f"paper_tracing:{task}:{i}")
        base = dict(model=lm.info.name, family=lm.info.family, n_layers=n,
                    protocol=cfg.protocol, experiment=cfg.experiment, source_task="noise",
                    target_task=task, seed=seed)  # fmt: skip

        try:
            prompt = capture(lm, way, ex, (), clean_output=True, keep_run=True)
        except LayoutError as exc:
            records += _excluded(base, conds, way, layout_exclusion(exc))
            continue
        base["target_prompt"] = prompt.text
        if not clean_correct(cfg.scorer, task, prompt.clean_output, ex.query):
            records += _excluded(base, conds, way, "clean_target_wrong",
                                 output=prompt.clean_output.strip())  # fmt: skip
            continue
        where = _positions(prompt, cfg.positions)
        noises = [Noise((where[p],), layer, s, derive_seed(seed, f"{s}:{p}:{layer}") % 2**63)
                  for s, p, layer in conds]  # fmt: skip
        gens = noised_outputs(lm, prompt.ids, noises, way.max_new_tokens, prompt.clean)
        for (s, p, layer), gen in zip(conds, gens, strict=True):
            ok = clean_correct(cfg.scorer, task, gen.text, ex.query)
            records.append(TrialRecord(**base, layer=layer, position_set=p,
                                       outcome="correct" if ok else "incorrect",
                                       condition=_condition(way, s), output=gen.answer,
                                       target_positions=(where[p],)))  # fmt: skip
    return records


def _excluded(base: dict, conds, way: PaperWay, reason: str, **kw
              ) -> list[TrialRecord]:  # fmt: skip
    return [TrialRecord(**base, **kw, layer=layer, position_set=p, outcome=None,
                        excluded=reason, condition=_condition(way, s))
            for s, p, layer in conds]  # fmt: skip


def _condition(way: PaperWay, sigma: float) -> str:
    return ",".join(filter(None, (way.condition, f"sigma={sigma:g}")))


def run_paper_tracing(lm: LoadedModel, cfg: PaperTracingConfig, store=None,
                      progress: Progress | None = None) -> list[TrialRecord]:  # fmt: skip
    """Every task of `cfg`, each computed once via `store` (None: no caching)."""
    units = [(f"{cfg.protocol} {task}", cfg.unit(task), lambda task=task: run_task(lm, cfg, task))
             for task in cfg.tasks]  # fmt: skip
    code = ("paper_tracing", "paper_patching", "patching")
    return run_units(lm, cfg.experiment, units, store, progress, code=code)
