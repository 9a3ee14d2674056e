"""The paper's patching protocol (SPEC 6, protocol "paper"), flaws included, with each of its
ingredients (`protocol.ingredients`) switchable so that ablations can show which reported results
each one makes; run by the patching kernel (`icl_core.kernels`) as a `PaperTrial`.

Faithful defaults (../paper_protocol/README.md, checked against the release's scripts): trial
i's target prompt has the target task's test input i as query; the mean source uses the source
task's test inputs 0..n_source_prompts-1 (identical demo activations under fixed demos, SPEC
2.1 flaw 1). Positions "paper": a multi-position set is computed by the paper's line-counting
algorithm on each SOURCE prompt (as the release did); source position p is averaged over the
source prompts whose set holds p (and which are long enough), and written into target position
p (absolute index); a position beyond the target is dropped (the release skipped it silently;
we count it). The single positions `last_demo_token` / `query_first` are located in each prompt
on its own (source state at the source's own index -> the target's own index), as the release
did. Positions "roles": the role mapping of `icl_core.prompts.map_positions`, see
ROLE_SET_NAMES. No trial is excluded for a wrong clean target or an ambiguous answer (the
paper's inclusiveness); `source_clean_correct` says whether the first source prompt is answered
correctly under the active scorer. Switched ingredients name the protocol
("paper+scorer=strict") and the record's `condition` ("scorer=strict").
Controls (claim C9), as in the rigorous protocol's `patching.CONTROLS`: "random_source" (the
source prompts are those of a third task; transfer still means the original source's answer),
"noise_matched" (each patched vector replaced by Gaussian noise of the same norm), "shuffled"
(the patched vectors permuted across the set's positions); named in `condition`
("control=shuffled").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import torch

from icl_core.engine import Generation
from icl_core.errors import InvalidChoiceError, LayoutError, UnknownNameError
from icl_core.experiments.patching import CONTROLS, control_transform, third_task
from icl_core.experiments.units import run_units
from icl_core.kernels import (
    Condition,
    Patch,
    Scored,
    condition_records,
    excluded_records,
    patch_conditions,
)
from icl_core.models.loading import LoadedModel
from icl_core.papers.cheng2026.protocol.ingredients import (
    PAPER_MAX_NEW_TOKENS,
    PaperPrompt,
    PaperWay,
    capture,
    check_count,
    clean_correct,
    prompt_example,
    score_outcome,
)
from icl_core.papers.cheng2026.protocol.positions import PaperPositions
from icl_core.papers.cheng2026.protocol.scoring import paper_first_line
from icl_core.progress import Progress
from icl_core.prompts import map_positions, render
from icl_core.records import TrialRecord
from icl_core.scoring import layout_exclusion
from icl_core.tasks import derive_seed

PAPER_SET_NAMES = ("all_demo", "output_only", "input_only", "last_demo")
PAPER_SINGLES = ("last_demo_token", "query_first")
POSITION_SETS = PAPER_SET_NAMES + PAPER_SINGLES
# positions="roles": the paper's set name -> our Layout set (the paper's output_only held the
# "Output:" label too, so it is our output_lines; likewise input_only).
ROLE_SET_NAMES = {"output_only": "output_lines", "input_only": "input_lines"}


@dataclass(frozen=True)
class PaperPatchingConfig:
    """The paper's patching protocol over `pairs` x `position_sets` x `layers` (None: every
    layer; see `paper_layer_grid`). Trials = the target task's test inputs 0..n_trials-1. The
    four ingredient fields default to the paper's way (`protocol.ingredients`)."""

    experiment: str
    pairs: tuple[tuple[str, str], ...]
    position_sets: tuple[str, ...] = PAPER_SET_NAMES
    layers: tuple[int, ...] | None = None
    n_trials: int = 10
    n_source_prompts: int = 10
    seed: int = 0
    demos: str = "fixed"
    positions: str = "paper"
    scorer: str = "paper"
    source: str = "mean"
    control: str = ""
    max_new_tokens: int = PAPER_MAX_NEW_TOKENS

    def __post_init__(self) -> None:
        object.__setattr__(self, "pairs", tuple(tuple(p) for p in self.pairs))
        object.__setattr__(self, "position_sets", tuple(self.position_sets))
        if self.layers is not None:
            object.__setattr__(self, "layers", tuple(int(x) for x in self.layers))
        way = self.way  # validates the ingredients
        if self.control not in CONTROLS:
            raise InvalidChoiceError(f"control={self.control!r}; valid: {CONTROLS}")
        for name in self.position_sets:
            if name not in POSITION_SETS:
                raise UnknownNameError("position set", name, POSITION_SETS)
        for pair in self.pairs:
            for task in pair:
                way.check_task(task)
        if self.n_trials < 1 or self.n_source_prompts < 1 or self.max_new_tokens < 1:
            raise InvalidChoiceError("n_trials, n_source_prompts, max_new_tokens must be >= 1")
        for s, t in self.pairs:
            check_count(t, self.n_trials, "n_trials")
            check_count(s, self.n_source_prompts, "n_source_prompts")

    @property
    def way(self) -> PaperWay:
        """The ingredients, seed and decoding budget the prompts are built and scored with."""
        return PaperWay(self.demos, self.positions, self.scorer, self.source, self.seed,
                        self.max_new_tokens)  # fmt: skip

    @property
    def protocol(self) -> str:
        """The protocol name: "paper", or "paper+<ingredient>=<value>..." for ablations."""
        return self.way.protocol

    @property
    def condition(self) -> str:
        """The switched ingredients and the control as a record condition ("" for the paper's
        way)."""
        parts = [self.way.condition] * bool(self.way.switched)
        return ",".join(parts + [f"control={self.control}"] * bool(self.control))

    def unit(self, pair: tuple[str, str]) -> dict:
        """The store key's config for one pair."""
        d = asdict(self)
        d["pairs"] = [list(pair)]
        return d


# --------------------------------------------------------------------------- positions


@dataclass(frozen=True)
class PatchPlan:
    """What one position set patches: target position `target_positions[r]` takes the mean of
    the source states listed in `contributions[r]` ((source prompt number, position) pairs).
    `source_positions[r]`: the position in source prompt 0 (-1 where it contributes none).
    `n_unmatched`: misses, i.e. (source prompt, position) entries absent from a mean (beyond
    that prompt, or no role counterpart) plus positions dropped as beyond the target."""

    target_positions: tuple[int, ...]
    contributions: tuple[tuple[tuple[int, int], ...], ...]
    source_positions: tuple[int, ...]
    n_unmatched: int

    def values(self, sources: Sequence[PaperPrompt], layer: int) -> torch.Tensor:
        """[n positions, hidden]: the mean source state of each target position at `layer`
        (accumulated in float32, returned in the states' dtype)."""
        ref = sources[0].states[layer]
        total = torch.zeros(len(self.target_positions), ref.shape[-1], device=ref.device)
        for s, src in enumerate(sources):
            rows = [r for r, c in enumerate(self.contributions) for (k, _) in c if k == s]
            if rows:  # a prompt contributes at most once per target position
                pos = [p for c in self.contributions for (k, p) in c if k == s]
                total[rows] += src.states[layer][pos].float()
        count = torch.tensor([len(c) for c in self.contributions], device=ref.device)
        return (total / count[:, None]).to(ref.dtype)


def _single(pp: PaperPositions, name: str) -> int:
    return pp.last_demo_token if name == "last_demo_token" else pp.query_first


def patch_plan(way: PaperWay, name: str, sources: Sequence[PaperPrompt], target: PaperPrompt
               ) -> PatchPlan:  # fmt: skip
    """The positions of set `name` under way.positions (module docstring)."""
    contrib: dict[int, list[tuple[int, int]]] = {}
    missed = 0
    for s, src in enumerate(sources):
        if way.positions == "roles":
            wanted = target.layout.position_set(ROLE_SET_NAMES.get(name, name))
            m = map_positions(src.layout, target.layout, wanted)
            pairs = list(zip(m.target, m.source, strict=True))
            missed += len(m.unmatched)
        elif name in PAPER_SINGLES:
            pairs = [(_single(target.paper, name), _single(src.paper, name))]
        else:
            pairs = [(p, p) for p in src.paper.sets[name]]
        for t, p in pairs:
            if p >= len(src.ids):
                missed += 1
                continue
            contrib.setdefault(t, []).append((s, p))
    beyond = [t for t in contrib if t >= len(target.ids)]
    missed += len(beyond)
    kept = sorted(t for t in contrib if t < len(target.ids))
    first = tuple(next((p for k, p in contrib[t] if k == 0), -1) for t in kept)
    return PatchPlan(tuple(kept), tuple(tuple(contrib[t]) for t in kept), first, missed)


# --------------------------------------------------------------------------- trials


@dataclass(frozen=True)
class PaperTrial:
    """One trial as the patching kernel's `PatchTrial`: the target prompt, the source prompts
    whose (mean) states are patched in, the paper's positions and scorer (the way's)."""

    way: PaperWay
    source_task: str
    target_task: str
    target: PaperPrompt
    sources: Sequence[PaperPrompt]

    @property
    def target_ids(self) -> tuple[int, ...]:
        return self.target.ids

    def patch(self, position_set: str) -> Patch:
        plan = patch_plan(self.way, position_set, self.sources, self.target)
        return Patch(plan.target_positions, plan.source_positions, plan.n_unmatched,
                     lambda layer: plan.values(self.sources, layer),
                     None if plan.target_positions else "position_out_of_range")  # fmt: skip

    def generation(self) -> dict:
        return dict(max_new_tokens=self.way.max_new_tokens, clean=self.target.clean)

    def score(self, gen: Generation) -> Scored:
        q = self.target.example.query
        outcome = score_outcome(self.way.scorer, self.source_task, self.target_task, gen.text,
                                q, q)  # fmt: skip
        return Scored(outcome, paper_first_line(gen.text))


def _layers(lm: LoadedModel, cfg: PaperPatchingConfig) -> tuple[int, ...]:
    n = lm.info.n_layers
    layers = cfg.layers if cfg.layers is not None else tuple(range(n))
    bad = [x for x in layers if not 0 <= x < n]
    if bad:
        raise InvalidChoiceError(f"layers {bad} out of range: the model has {n} layers")
    return layers


def _sources(lm: LoadedModel, cfg: PaperPatchingConfig, source: str, i: int, query: str,
             layers: Sequence[int],
             cached: list[PaperPrompt] | None) -> list[PaperPrompt]:  # fmt: skip
    """The source prompts of trial i: the shared mean prompts (`cached` once built), or the
    paired prompt with the target's query. The random-source control uses the third task's."""
    way = cfg.way
    if cfg.source == "mean":
        if cached is not None:
            return cached
        return [capture(lm, way, prompt_example(way, source, j), layers, clean_output=j == 0)
                for j in range(cfg.n_source_prompts)]  # fmt: skip
    paired = prompt_example(way, source, i, query=query)
    return [capture(lm, way, paired, layers, clean_output=True)]


def run_paper_pair(lm: LoadedModel, cfg: PaperPatchingConfig, source: str, target: str
                   ) -> list[TrialRecord]:  # fmt: skip
    """Every trial of one pair (target test inputs 0..n_trials-1) under every position set x
    layer of `cfg`: one record each, in (trial, position set, layer) order. Exclusions:
    "layout_error" (positions="roles", a prompt without layout), "too_long" (beyond the
    model's context), "position_out_of_range"
    (nothing of the set lies inside the target prompt)."""
    layers = _layers(lm, cfg)
    conds = [Condition(name, layer) for name in cfg.position_sets for layer in layers]
    info, way = lm.info, cfg.way
    prompt_task = third_task(source, target) if cfg.control == "random_source" else source
    mean_sources: list[PaperPrompt] | None = None
    records: list[TrialRecord] = []
    for i in range(cfg.n_trials):
        t_example = prompt_example(way, target, i)
        seed = derive_seed(cfg.seed, f"paper:{target}:{i}")
        base = dict(model=info.name, family=info.family, n_layers=info.n_layers,
                    protocol=cfg.protocol, experiment=cfg.experiment, source_task=source,
                    target_task=target, seed=seed, condition=cfg.condition,
                    target_prompt=render(t_example, "paper").text)  # fmt: skip
        try:
            sources = _sources(lm, cfg, prompt_task, i, t_example.query, layers, mean_sources)
            tgt = capture(lm, way, t_example, layers, keep_run=True)
        except LayoutError as exc:
            records += excluded_records(base, conds, layout_exclusion(exc))
            continue
        if cfg.source == "mean":
            mean_sources = sources
        first = sources[0]
        base["source_prompt"] = first.text
        base["source_clean_correct"] = clean_correct(
            cfg.scorer, prompt_task, first.clean_output, first.example.query
        )
        trial = PaperTrial(way, source, target, tgt, sources)
        transform = control_transform(cfg.control, seed)
        records += condition_records(base, patch_conditions(lm, trial, conds, transform))
    return records


def run_paper_patching(lm: LoadedModel, cfg: PaperPatchingConfig, store=None,
                       progress: Progress | None = None) -> list[TrialRecord]:  # fmt: skip
    """Every pair of `cfg`, each computed once per (model, config, code version) via `store`
    (None: no caching); the store unit is one pair, keyed by `cfg.unit(pair)`."""
    units = [(f"{cfg.protocol} {s} -> {t}", cfg.unit((s, t)),
              lambda s=s, t=t: run_paper_pair(lm, cfg, s, t)) for s, t in cfg.pairs]  # fmt: skip
    code = ("paper_patching", "patching")
    return run_units(lm, cfg.experiment, units, store, progress, code=code)


__all__ = [
    "PAPER_SET_NAMES", "PAPER_SINGLES", "POSITION_SETS", "ROLE_SET_NAMES",
    "PaperPatchingConfig", "PaperTrial", "PatchPlan", "patch_plan",
    "run_paper_pair", "run_paper_patching",
]  # fmt: skip
