"""Patching experiments: source -> target residual patching over pairs x position sets x layers.

One function serves the multi- and single-position sweeps, the pair matrix, the threshold
experiments and the controls; they differ only in their `PatchingConfig`. Results are stored
per task pair, or per draw group where pairs share draws (the unit of work), so an interrupted
run resumes where it stopped.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace

import torch

from icl_core.errors import InvalidChoiceError
from icl_core.experiments.units import run_units
from icl_core.kernels import Condition, ConditionResult, condition_records, excluded_records
from icl_core.models.loading import LoadedModel
from icl_core.progress import Progress
from icl_core.records import TrialRecord
from icl_core.tasks import (
    PAPER_TASKS,
    TaskPair,
    derive_seed,
    draw_groups,
    get_task,
    sample_draw,
    sample_example,
    sample_pair,
)
from icl_core.tasks.sampling import shared_input_capacity
from icl_core.trials import CleanRuns, PreparedPair, prepare_pair, run_conditions

CONTROLS = ("", "random_source", "noise_matched", "shuffled")


def third_task(source: str, target: str, query: str | None = None) -> str:
    """C9's random-source control draws its source prompt from a third task: the first paper
    task that is neither `source` nor `target` and, given the target's `query`, accepts it
    (the rigorous rule; the paper's release ignores the query: `query=None`)."""
    for name in PAPER_TASKS:
        if name not in (source, target) and (query is None or get_task(name).accepts(query)):
            return name
    raise InvalidChoiceError(f"no third task accepts the query {query!r}")


@dataclass(frozen=True)
class PatchingConfig:
    """What to patch. `layers=None`: every layer. `position_sets`: names from
    Layout.position_sets(). `control`: "" (plain), "random_source" (the source prompt is of a
    third task; transfer still means the original source task's answer), "noise_matched"
    (source states replaced by Gaussian vectors of the same norm per position), "shuffled"
    (source states permuted across the patched positions). `distinct_queries`: the source
    prompt asks another query than the target (SPEC 5.3). `conditions`: explicit (position
    set, layer) conditions, overriding position_sets x layers (a sequential round runs only
    the undecided ones). `skip_source_wrong`: a trial whose clean source prompt is answered
    wrongly is excluded as `source_clean_wrong` before any condition runs (it cannot count
    under the rigorous protocol; the first round keeps them for the all-valid-trials figure).
    `shared_draws`: the pairs whose tasks form a draw group (`draw_groups`) are sampled a draw
    at a time for the whole group (`sample_draw`), each draw's prompts run clean once for all
    the group's pairs (`CleanRuns`): a draw of a group of g tasks costs 2g clean runs instead
    of 2g(g - 1); the other pairs run one by one."""

    experiment: str
    pairs: tuple[tuple[str, str], ...]
    position_sets: tuple[str, ...]
    layers: tuple[int, ...] | None = None
    n_trials: int = 10
    seed: int = 0
    k: int = 5
    template: str = "paper"
    strict: bool = False
    control: str = ""
    protocol: str = "rigorous"
    distinct_queries: bool = True
    conditions: tuple[tuple[str, int], ...] | None = None
    skip_source_wrong: bool = False
    shared_draws: bool = False

    def __post_init__(self) -> None:
        if self.control not in CONTROLS:
            raise InvalidChoiceError(f"unknown control {self.control!r}; valid: {CONTROLS}")
        for s, t in self.pairs:
            get_task(s), get_task(t)

    def unit(self, pairs: Sequence[tuple[str, str]]) -> dict:
        """The store key's config for one unit of work (a pair, or a draw group's pairs);
        `shared_draws` is keyed only where set, so per-pair units keep their keys."""
        d = asdict(self)
        d["pairs"] = [list(pair) for pair in pairs]
        if not self.shared_draws:
            del d["shared_draws"]
        return d


def _control_pair(pair: TaskPair, cfg: PatchingConfig, seed: int) -> TaskPair:
    """Random-source control: the source prompt comes from a third task C (same demo inputs
    where C accepts them); transfer is still scored against the original source's answer."""
    s, t = pair.source.task, pair.target.task
    third = third_task(s, t, pair.target.query)
    try:
        c_pair = sample_pair(third, t, cfg.k, seed, shared_inputs=True,
                             distinct_queries=cfg.distinct_queries)  # fmt: skip
        c_example = c_pair.source
    except InvalidChoiceError:
        c_example = sample_example(third, cfg.k, derive_seed(seed, "third"))
    return TaskPair(c_example, pair.target, pair.shared_inputs, pair.ambiguous,
                    pair.source_answer_for_query)  # fmt: skip


def control_transform(
    control: str, seed: int
) -> Callable[[torch.Tensor, Condition], torch.Tensor] | None:
    if control == "noise_matched":

        def noise(values: torch.Tensor, cond: Condition) -> torch.Tensor:
            gen = torch.Generator().manual_seed(derive_seed(seed, f"noise:{cond.layer}") % 2**63)
            g = torch.randn(values.shape, generator=gen).to(values)
            return g * values.norm(dim=-1, keepdim=True) / g.norm(dim=-1, keepdim=True)

        return noise
    if control == "shuffled":

        def shuffle(values: torch.Tensor, cond: Condition) -> torch.Tensor:
            n = values.shape[0]
            perm = list(range(n))
            random.Random(derive_seed(seed, f"shuffle:{cond.layer}")).shuffle(perm)
            if n > 1 and perm == list(range(n)):
                perm = perm[1:] + perm[:1]
            return values[perm]

        return shuffle
    return None


def _records(lm, cfg, prep: PreparedPair, seed, results: Sequence[ConditionResult] | None,
             conds) -> list[TrialRecord]:  # fmt: skip
    info = lm.info
    base = dict(model=info.name, family=info.family, n_layers=info.n_layers,
                protocol=cfg.protocol, experiment=cfg.experiment,
                source_task=prep.pair.source.task, target_task=prep.pair.target.task, seed=seed,
                condition=cfg.control and f"control={cfg.control}",
                source_clean_correct=prep.source_clean_correct,
                target_prompt=prep.target.prompt.text if prep.target else "",
                source_prompt=prep.source.prompt.text if prep.source else None,
                source_query=prep.pair.source.query)  # fmt: skip
    if results is None:
        return excluded_records(base, conds, prep.excluded)
    return condition_records(base, results)


def conditions_of(lm: LoadedModel, cfg: PatchingConfig) -> list[Condition]:
    """`cfg.conditions`, else its position sets x layers (None: every layer)."""
    layers = cfg.layers if cfg.layers is not None else tuple(range(lm.info.n_layers))
    if cfg.conditions is not None:
        return [Condition(ps, layer) for ps, layer in cfg.conditions]
    return [Condition(ps, layer) for ps in cfg.position_sets for layer in layers]


def run_pair(lm: LoadedModel, cfg: PatchingConfig, source: str, target: str) -> list[TrialRecord]:
    """All trials of one pair under every condition of `cfg` (rigorous protocol)."""
    conds = conditions_of(lm, cfg)
    demos, queries = shared_input_capacity(source, target)
    shared = demos >= cfg.k and queries >= 1
    records: list[TrialRecord] = []
    for i in range(cfg.n_trials):
        seed = derive_seed(cfg.seed, f"{cfg.experiment}:{source}->{target}:{i}")
        pair = sample_pair(source, target, cfg.k, seed, shared_inputs=shared,
                           distinct_queries=cfg.distinct_queries)  # fmt: skip
        records += run_trial(lm, cfg, pair, seed, conds, CleanRuns())
    if cfg.control == "random_source":
        records = [_rename_source(r, source) for r in records]
    return records


def run_trial(lm, cfg: PatchingConfig, pair: TaskPair, seed: int, conds: Sequence[Condition],
              runs: CleanRuns) -> list[TrialRecord]:  # fmt: skip
    """One trial of `pair` under `conds`, its clean prompts run through `runs`."""
    prep = prepare_pair(lm, pair, cfg.template, runs=runs)
    if cfg.control == "random_source" and not prep.excluded:
        # the third task's states, filtered like every other control: by the ORIGINAL
        # source's clean answer (its competence is what the rigorous cells require)
        source_ok = prep.source_clean_correct
        prep = prepare_pair(lm, _control_pair(pair, cfg, seed), cfg.template, runs=runs)
        prep.source_clean_correct = source_ok
    if cfg.skip_source_wrong and not prep.excluded and not prep.source_clean_correct:
        prep.excluded = "source_clean_wrong"
    if prep.excluded:
        return _records(lm, cfg, prep, seed, None, conds)
    _check_sets(prep, {c.position_set for c in conds})
    results = run_conditions(lm, prep, conds, strict=cfg.strict,
                             transform=control_transform(cfg.control, seed))  # fmt: skip
    return _records(lm, cfg, prep, seed, results, conds)


def run_group(lm: LoadedModel, cfg: PatchingConfig, group: Sequence[str]) -> list[TrialRecord]:
    """All trials of every ordered pair of a draw group (`cfg.shared_draws`): `cfg.n_trials`
    draws (`sample_draw`), each draw's clean runs shared by its pairs (rigorous protocol, no
    control)."""
    if cfg.control or not cfg.distinct_queries:
        raise InvalidChoiceError(
            f"shared draws need control='' and distinct_queries=True, got control="
            f"{cfg.control!r}, distinct_queries={cfg.distinct_queries}"
        )
    conds = conditions_of(lm, cfg)
    records: list[TrialRecord] = []
    for i in range(cfg.n_trials):
        seed = derive_seed(cfg.seed, f"{cfg.experiment}:draw:{'|'.join(group)}:{i}")
        runs = CleanRuns()
        for pair in sample_draw(group, cfg.k, seed).values():
            records += run_trial(lm, cfg, pair, seed, conds, runs)
    return records


def _rename_source(r: TrialRecord, source: str) -> TrialRecord:
    """Random-source control: file the record under the original pair (the prompt text shows
    the third task actually used)."""
    return replace(r, source_task=source)


def _check_sets(prep: PreparedPair, names: Sequence[str]) -> None:
    for name in names:
        prep.target.position_set(name)  # raises UnknownNameError listing the valid sets


def run_patching(lm: LoadedModel, cfg: PatchingConfig, store=None,
                 progress: Progress | None = None) -> list[TrialRecord]:  # fmt: skip
    """Every pair of `cfg` (with `shared_draws`, every draw group's pairs together), each unit
    computed once per (model, config, code version) via `store` (None: no caching)."""
    units, alone = [], list(cfg.pairs)
    if cfg.shared_draws:
        tasks = list(dict.fromkeys(t for pair in cfg.pairs for t in pair))
        for group in draw_groups(tasks, cfg.k):
            pairs = list(itertools.permutations(group, 2))
            if len(group) > 1 and set(pairs) <= set(cfg.pairs):
                units.append((f"draws of {', '.join(group)}", cfg.unit(pairs),
                              lambda g=group: run_group(lm, cfg, g)))  # fmt: skip
                alone = [p for p in alone if p not in pairs]
    units += [(f"{s} -> {t}", cfg.unit([(s, t)]), lambda s=s, t=t: run_pair(lm, cfg, s, t))
              for s, t in alone]  # fmt: skip
    return run_units(lm, cfg.experiment, units, store, progress, code=("patching",))
