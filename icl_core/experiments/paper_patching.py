"""The paper's own patching protocol (SPEC 6, protocol "paper"), flaws included, with each of
its ingredients switchable so that ablations can show which reported results each one makes.

Faithful defaults (../paper_protocol/README.md, checked against the release's scripts):
- demos "fixed": the release's five demos; trial i's target prompt has the target task's test
  input i as query; the mean source uses the source task's test inputs 0..n_source_prompts-1.
- positions "paper": a multi-position set is computed by the paper's line-counting algorithm on
  each SOURCE prompt (as the release did); source position p is averaged over the source prompts
  whose set holds p (and which are long enough), and written into target position p (absolute
  index); a position beyond the target is dropped (the release skipped it silently; we count it).
  The single positions `last_demo_token` / `query_first` are located in each prompt on its own
  (source state at the source's own index -> the target's own index), as the release did.
- scorer "paper": the release's lenient scorers on the target's query for BOTH tasks (transfer
  checked first; a source task without an answer for that query never transfers, as in the
  release's try/except); "neither" is recorded as "malformed".
- source "mean": mean over n_source_prompts source prompts (identical demo activations under
  fixed demos, SPEC 2.1 flaw 1).
- no trial is excluded for a wrong clean target or an ambiguous answer (the paper's
  inclusiveness); `source_clean_correct` says whether the first source prompt is answered
  correctly under the active scorer.
Switches: demos "sampled" (demos drawn per prompt with `sample_example(task, 5, seed)`, the query
still the paper's test input where the task has them, demos re-drawn if they contain the query),
positions "roles" (role mapping of `icl_core.prompts.map_positions`, see ROLE_SET_NAMES), scorer
"strict" (`icl_core.scoring.classify`), source "paired" (one source prompt: the source's prompt
number i with the target's query). Switched ingredients name the protocol
("paper+scorer=strict") and the record's `condition` ("scorer=strict").
Controls (claim C9), as in the rigorous protocol's `patching.CONTROLS`: "random_source" (the
source prompts are those of a third task; transfer still means the original source's answer),
"noise_matched" (each patched vector replaced by Gaussian noise of the same norm), "shuffled"
(the patched vectors permuted across the set's positions); named in `condition`
("control=shuffled").

Known deviation: decoding stops at the first newline (engine), where the release generated 30
tokens and stripped before taking the first line; only an output starting with a newline scores
differently (empty here).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import torch

from icl_core.design import third_task
from icl_core.engine import CleanRun, PromptEdit, clean_prefill, generate
from icl_core.errors import InvalidChoiceError, LayoutError, UnknownNameError
from icl_core.experiments.patching import CONTROLS, control_transform
from icl_core.experiments.units import run_units
from icl_core.models.loading import LoadedModel
from icl_core.progress import Progress
from icl_core.prompts import Layout, build_layout, map_positions, render
from icl_core.prompts.paper_positions import PaperPositions, paper_positions
from icl_core.records import TrialRecord
from icl_core.scoring import classify, layout_exclusion
from icl_core.tasks import (
    ICLExample,
    derive_seed,
    get_task,
    paper_example,
    paper_outcome,
    paper_score,
    paper_task,
    paper_task_names,
    sample_example,
)
from icl_core.tasks.paper_scoring import paper_first_line
from icl_core.tasks.task import first_line
from icl_core.trials import Condition

PAPER_SET_NAMES = ("all_demo", "output_only", "input_only", "last_demo")
PAPER_SINGLES = ("last_demo_token", "query_first")
POSITION_SETS = PAPER_SET_NAMES + PAPER_SINGLES
# positions="roles": the paper's set name -> our Layout set (the paper's output_only held the
# "Output:" label too, so it is our output_lines; likewise input_only).
ROLE_SET_NAMES = {"output_only": "output_lines", "input_only": "input_lines"}
INGREDIENTS = {
    "demos": ("fixed", "sampled"),
    "positions": ("paper", "roles"),
    "scorer": ("paper", "strict"),
    "source": ("mean", "paired"),
}
PAPER_DEPTH_FRACTIONS = (0.30, 0.44, 0.52, 0.59)
paper_noise_sigmas = (0.5, 1.0, 2.0, 5.0)  # the release's absolute causal-tracing noise
PAPER_K = 5
PAPER_MAX_NEW_TOKENS = 30


def paper_layer_grid(n_layers: int) -> list[int]:
    """The cross-model runs' layers: depth fractions 0.30/0.44/0.52/0.59, rounded down."""
    return sorted({int(f * n_layers) for f in PAPER_DEPTH_FRACTIONS})


@dataclass(frozen=True)
class PaperPatchingConfig:
    """The paper's patching protocol over `pairs` x `position_sets` x `layers` (None: every
    layer; see `paper_layer_grid`). Trials = the target task's test inputs 0..n_trials-1. The
    four ingredient fields default to the paper's way (module docstring)."""

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
        for name in INGREDIENTS:
            if getattr(self, name) not in INGREDIENTS[name]:
                raise InvalidChoiceError(
                    f"{name}={getattr(self, name)!r}; valid: {INGREDIENTS[name]}"
                )
        if self.control not in CONTROLS:
            raise InvalidChoiceError(f"control={self.control!r}; valid: {CONTROLS}")
        for name in self.position_sets:
            if name not in POSITION_SETS:
                raise UnknownNameError("position set", name, POSITION_SETS)
        for pair in self.pairs:
            for task in pair:
                _check_task(task, self)
        if self.n_trials < 1 or self.n_source_prompts < 1 or self.max_new_tokens < 1:
            raise InvalidChoiceError("n_trials, n_source_prompts, max_new_tokens must be >= 1")
        for s, t in self.pairs:
            _check_count(t, self.n_trials, "n_trials")
            _check_count(s, self.n_source_prompts, "n_source_prompts")

    @property
    def switched(self) -> tuple[tuple[str, str], ...]:
        """The ingredients that differ from the paper's way, in INGREDIENTS order."""
        return tuple((k, getattr(self, k)) for k, v in INGREDIENTS.items() if getattr(self, k)
                     != v[0])  # fmt: skip

    @property
    def protocol(self) -> str:
        """The protocol name: "paper", or "paper+<ingredient>=<value>..." for ablations."""
        return "paper" + "".join(f"+{k}={v}" for k, v in self.switched)

    @property
    def condition(self) -> str:
        """The switched ingredients and the control as a record condition ("" for the paper's
        way)."""
        parts = [f"{k}={v}" for k, v in self.switched]
        return ",".join(parts + [f"control={self.control}"] * bool(self.control))

    def unit(self, pair: tuple[str, str]) -> dict:
        """The store key's config for one pair."""
        d = asdict(self)
        d["pairs"] = [list(pair)]
        return d


def _check_task(task: str, cfg: PaperPatchingConfig) -> None:
    if cfg.demos == "fixed" or cfg.scorer == "paper":
        paper_task(task)  # UnknownNameError("paper task", ...)
    if cfg.demos == "sampled":
        get_task(task)


def _check_count(task: str, n: int, what: str) -> None:
    if task in paper_task_names() and n > len(paper_task(task).test_inputs):
        raise InvalidChoiceError(
            f"{what}={n}: {task} has {len(paper_task(task).test_inputs)} test inputs"
        )


# --------------------------------------------------------------------------- answers, scoring


def task_answer(task: str, x: str) -> str | None:
    """The answer of `task` for `x`: the release's data for a paper task (registry fallback),
    else the registry task's; None where the task has no answer for `x`."""
    try:
        if task in paper_task_names():
            return paper_task(task).answer_for(x)
        t = get_task(task)
        return t.answer(x) if t.accepts(x) else None
    except InvalidChoiceError:
        return None


def _paper_correct(task: str, output: str, x: str) -> bool:
    try:
        return paper_score(task, output, x) == "correct"
    except InvalidChoiceError:  # no answer for x: never correct (the release's try/except)
        return False


def score_outcome(
    scorer: str, source: str, target: str, output: str, x_source: str, x_target: str
) -> str:
    """transfer / preserve / malformed of a patched output. "paper": `paper_outcome` (lenient,
    transfer first), a source without an answer for `x_source` never transfers, "neither" ->
    "malformed". "strict": `classify` on exact first lines against `task_answer`s."""
    if scorer == "paper":
        try:
            outcome = paper_outcome(source, target, output, x_source, x_target)
        except InvalidChoiceError:
            outcome = "preserve" if _paper_correct(target, output, x_target) else "neither"
        return "malformed" if outcome == "neither" else outcome
    if scorer != "strict":
        raise InvalidChoiceError(f"scorer={scorer!r}; valid: {INGREDIENTS['scorer']}")
    s_answer, t_answer = task_answer(source, x_source), task_answer(target, x_target)
    if t_answer is None:
        raise InvalidChoiceError(f"target task {target!r} has no answer for {x_target!r}")
    if s_answer is None:
        return "preserve" if first_line(output) == t_answer.strip() else "malformed"
    return classify(output, s_answer, t_answer)


def clean_correct(scorer: str, task: str, output: str, x: str) -> bool | None:
    """Whether a clean output answers `x` for `task` under `scorer` (None: no answer exists)."""
    answer = task_answer(task, x)
    if answer is None:
        return None
    if scorer == "paper":
        return _paper_correct(task, output, x)
    return first_line(output) == answer.strip()


# --------------------------------------------------------------------------- prompts


def _sampled(task: str, query: str | None, seed: int) -> ICLExample:
    """sample_example(task, 5, seed); with `query`, its query replaced (demos re-drawn with
    derived seeds while they contain the query)."""
    ex = sample_example(task, PAPER_K, seed)
    n = 0
    while query is not None and query in ex.demo_inputs:
        n += 1
        ex = sample_example(task, PAPER_K, derive_seed(seed, f"redraw:{n}"))
    if query is None:
        return ex
    return ICLExample(task, ex.demos, query, task_answer(task, query) or "")


def prompt_example(cfg: PaperPatchingConfig, task: str, i: int, query: str | None = None
                   ) -> ICLExample:  # fmt: skip
    """Prompt number i of `task`: its test input i as query (or `query` if given). Fixed demos:
    the release's; sampled: drawn with seed derive_seed(cfg.seed, "paper:<task>:<i>"), the
    query from the paper's test inputs where the task has them, else sampled."""
    if query is None and task in paper_task_names():
        query = paper_task(task).test_inputs[i]
    if cfg.demos == "fixed":
        demos = paper_example(task, 0).demos
        return ICLExample(task, demos, query, task_answer(task, query) or "")
    return _sampled(task, query, derive_seed(cfg.seed, f"paper:{task}:{i}"))


@dataclass
class PaperPrompt:
    """A rendered prompt, its tokens (default special tokens), the clean block outputs at the
    run's layers, the paper's positions ("paper") or its layout ("roles")."""

    example: ICLExample
    text: str
    ids: tuple[int, ...]
    states: dict[int, torch.Tensor]
    paper: PaperPositions | None = None
    layout: Layout | None = None
    clean_output: str = ""
    clean: CleanRun | None = None


def capture(lm: LoadedModel, cfg: PaperPatchingConfig, example: ICLExample,
            layers: Sequence[int], clean_output: bool = False, keep_run: bool = False
            ) -> PaperPrompt:  # fmt: skip
    """Render, tokenize and run `example` clean, keeping `layers`' states (`keep_run`: the
    whole CleanRun too; `clean_output`: also decode it clean). Raises LayoutError where
    positions="roles" and the prompt has no unambiguous layout."""
    prompt = render(example, "paper")
    ids = tuple(lm.tokenizer(prompt.text, add_special_tokens=True)["input_ids"])
    run = clean_prefill(lm.model, ids)
    out = PaperPrompt(example, prompt.text, ids, {layer: run.states[layer] for layer in layers})
    if cfg.positions == "paper":
        out.paper = paper_positions(prompt.text, lm.tokenizer)
    else:
        out.layout = build_layout(prompt, lm.tokenizer)
    if keep_run:
        out.clean = run
    if clean_output:
        (gen,) = generate(lm.model, lm.tokenizer, ids, [[]], cfg.max_new_tokens, clean=run)
        out.clean_output = gen.text
    return out


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


def patch_plan(cfg: PaperPatchingConfig, name: str, sources: Sequence[PaperPrompt],
               target: PaperPrompt) -> PatchPlan:  # fmt: skip
    """The positions of set `name` under cfg.positions (module docstring)."""
    contrib: dict[int, list[tuple[int, int]]] = {}
    missed = 0
    for s, src in enumerate(sources):
        if cfg.positions == "roles":
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


def _layers(lm: LoadedModel, cfg: PaperPatchingConfig) -> tuple[int, ...]:
    n = lm.info.n_layers
    layers = cfg.layers if cfg.layers is not None else tuple(range(n))
    bad = [x for x in layers if not 0 <= x < n]
    if bad:
        raise InvalidChoiceError(f"layers {bad} out of range: the model has {n} layers")
    return layers


def _sources(lm, cfg, source: str, i: int, query: str, layers, cached: list[PaperPrompt] | None
             ) -> list[PaperPrompt]:  # fmt: skip
    """The source prompts of trial i: the shared mean prompts (`cached` once built), or the
    paired prompt with the target's query. The random-source control uses the third task's."""
    if cfg.source == "mean":
        if cached is not None:
            return cached
        return [capture(lm, cfg, prompt_example(cfg, source, j), layers, clean_output=j == 0)
                for j in range(cfg.n_source_prompts)]  # fmt: skip
    paired = prompt_example(cfg, source, i, query=query)
    return [capture(lm, cfg, paired, layers, clean_output=True)]


def run_paper_pair(lm: LoadedModel, cfg: PaperPatchingConfig, source: str, target: str
                   ) -> list[TrialRecord]:  # fmt: skip
    """Every trial of one pair (target test inputs 0..n_trials-1) under every position set x
    layer of `cfg`: one record each, in (trial, position set, layer) order. Exclusions:
    "layout_error" (positions="roles", a prompt without layout), "too_long" (beyond the
    model's context), "position_out_of_range"
    (nothing of the set lies inside the target prompt)."""
    layers = _layers(lm, cfg)
    conds = [(name, layer) for name in cfg.position_sets for layer in layers]
    info = lm.info
    prompt_task = third_task(source, target) if cfg.control == "random_source" else source
    mean_sources: list[PaperPrompt] | None = None
    records: list[TrialRecord] = []
    for i in range(cfg.n_trials):
        t_example = prompt_example(cfg, target, i)
        seed = derive_seed(cfg.seed, f"paper:{target}:{i}")
        base = dict(model=info.name, family=info.family, n_layers=info.n_layers,
                    protocol=cfg.protocol, experiment=cfg.experiment, source_task=source,
                    target_task=target, seed=seed, condition=cfg.condition,
                    target_prompt=render(t_example, "paper").text)  # fmt: skip
        try:
            sources = _sources(lm, cfg, prompt_task, i, t_example.query, layers, mean_sources)
            tgt = capture(lm, cfg, t_example, layers, keep_run=True)
        except LayoutError as exc:
            reason = layout_exclusion(exc)
            records += [TrialRecord(**base, layer=layer, position_set=name, outcome=None,
                                    excluded=reason) for name, layer in conds]  # fmt: skip
            continue
        if cfg.source == "mean":
            mean_sources = sources
        first = sources[0]
        base["source_prompt"] = first.text
        base["source_clean_correct"] = clean_correct(
            cfg.scorer, prompt_task, first.clean_output, first.example.query
        )
        plans = {name: patch_plan(cfg, name, sources, tgt) for name in cfg.position_sets}
        runnable = [(n, layer) for n, layer in conds if plans[n].target_positions]
        transform = control_transform(cfg.control, seed) or (lambda values, _: values)
        variants = [[PromptEdit(layer, plans[n].target_positions,
                                transform(plans[n].values(sources, layer), Condition(n, layer)))]
                    for n, layer in runnable]  # fmt: skip
        gens = dict(zip(runnable, _generate(lm, cfg, tgt, variants), strict=True))
        q = t_example.query
        for name, layer in conds:
            plan, gen = plans[name], gens.get((name, layer))
            row = dict(base, layer=layer, position_set=name, n_unmatched=plan.n_unmatched,
                       target_positions=plan.target_positions,
                       source_positions=plan.source_positions)  # fmt: skip
            if gen is None:
                records.append(TrialRecord(**row, outcome=None, excluded="position_out_of_range"))
                continue
            outcome = score_outcome(cfg.scorer, source, target, gen.text, q, q)
            output = paper_first_line(gen.text)
            records.append(TrialRecord(**row, outcome=outcome, output=output))
    return records


def _generate(lm: LoadedModel, cfg: PaperPatchingConfig, tgt: PaperPrompt, variants):
    if not variants:
        return []
    return generate(lm.model, lm.tokenizer, tgt.ids, variants, cfg.max_new_tokens, clean=tgt.clean)


def run_paper_patching(lm: LoadedModel, cfg: PaperPatchingConfig, store=None,
                       progress: Progress | None = None) -> list[TrialRecord]:  # fmt: skip
    """Every pair of `cfg`, each computed once per (model, config, code version) via `store`
    (None: no caching); the store unit is one pair, keyed by `cfg.unit(pair)`."""
    units = [(f"{cfg.protocol} {s} -> {t}", cfg.unit((s, t)),
              lambda s=s, t=t: run_paper_pair(lm, cfg, s, t)) for s, t in cfg.pairs]  # fmt: skip
    code = ("paper_patching", "patching")
    return run_units(lm, cfg.experiment, units, store, progress, code=code)


__all__ = [
    "INGREDIENTS", "PAPER_SET_NAMES", "PAPER_SINGLES", "POSITION_SETS", "ROLE_SET_NAMES",
    "PaperPatchingConfig", "PaperPrompt", "PatchPlan", "capture", "clean_correct",
    "paper_layer_grid", "paper_noise_sigmas", "patch_plan", "prompt_example",
    "run_paper_pair", "run_paper_patching", "score_outcome", "task_answer",
]  # fmt: skip
