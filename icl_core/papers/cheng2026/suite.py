"""All experiments of one model under one profile and protocol, computed lazily, once, through
the results store; and the claims' verdicts on them. Claims tests and reports both read this,
so the two cannot diverge."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable

from icl_core.experiments import rounds
from icl_core.experiments.units import get_or_compute_unit
from icl_core.models.loading import LoadedModel
from icl_core.models.registry import trial_scale
from icl_core.papers.cheng2026 import runner
from icl_core.papers.cheng2026 import verdicts as V
from icl_core.papers.cheng2026.claims import PER_MODEL_CLAIMS, get_claim
from icl_core.papers.cheng2026.design import (
    CONTROLS,
    DEMO_SINGLE_SETS,
    HEADLINE,
)
from icl_core.papers.cheng2026.profiles import QUALIFYING_ACCURACY, Profile
from icl_core.papers.cheng2026.protocol import runs as paper_runs
from icl_core.papers.cheng2026.protocol.sources import example_source
from icl_core.papers.cheng2026.protocols import parse_protocol
from icl_core.papers.cheng2026.runner import PatchingSpec
from icl_core.papers.cheng2026.tracing_rounds import c5_tracing
from icl_core.records import Cell, TrialRecord, Verdict, aggregate
from icl_core.store import ResultsStore
from icl_core.tasks import PAPER_TASKS

PROBE_POSITIONS = ("last_demo_token", "query_last", "demo0_output_last")


class ModelSuite:
    """Lazy experiment results for (model, profile, protocol). `store=None`: no caching. A
    registered model's `trial_scale` multiplies the profile's trial counts (`Profile.scaled`).

    Under the paper protocol and its ablations (`protocols`), the layer sweeps cover the
    paper's layer grid unless layers=all; "paper" itself sweeps every layer (shared with
    "paper+layers=all" through the store) and reads only the grid's layers."""

    def __init__(self, lm: LoadedModel, profile: Profile, protocol: str = "rigorous",
                 store: ResultsStore | None = None,
                 progress: Callable[[str], None] | None = None):  # fmt: skip
        self.spec = parse_protocol(protocol)
        self.lm, self.protocol = lm, protocol
        self.profile = profile.scaled(trial_scale(lm.info.name))
        self.store, self.progress = store, progress
        self.model = lm.info.name
        self.n_layers = lm.info.n_layers
        self._runs: dict[PatchingSpec, list[TrialRecord]] = {}

    @property
    def sweep_pairs(self) -> tuple[tuple[str, str], ...]:
        """The profile's pre-registered pairs; the paper protocol sweeps the headline pair only
        (the release's protocol, unchanged)."""
        return (HEADLINE,) if self.spec.is_paper else self.profile.sweep_pairs

    @property
    def sweep_layers(self) -> tuple[int, ...]:
        """The layers the claims read from the layer sweeps."""
        if self.spec.is_paper and self.spec.ingredient("layers") == "grid":
            from icl_core.papers.cheng2026.protocol.ingredients import paper_layer_grid

            return tuple(paper_layer_grid(self.n_layers))
        return tuple(range(self.n_layers))

    def run(self, spec: PatchingSpec) -> list[TrialRecord]:
        """The records of a patching experiment (`runner.run`), computed once per spec."""
        if spec not in self._runs:
            self._runs[spec] = runner.run(self, spec)
        return self._runs[spec]

    def stored(self, experiment: str, config: dict, compute: Callable[[], list],
                code: tuple[str, ...]) -> list | dict:  # fmt: skip
        """`compute()` once per (model setup, experiment, config, result versions of `code`)."""
        if self.progress:
            self.progress(f"{self.model} {experiment}")
        if self.store is None:
            return compute()
        return get_or_compute_unit(self.store, self.lm, experiment, config, compute, code)

    # -- experiments -------------------------------------------------------------------
    def multi_of(self, pair: tuple[str, str]) -> list[TrialRecord]:
        """The multi-position sweep of one sweep pair. Each pair runs its own rounds, so its
        stored units are the same whichever pairs run beside it (and in whichever process)."""
        return self.run(runner.multi_sweep(pair))

    def single_of(self, pair: tuple[str, str]) -> list[TrialRecord]:
        """The single-position sweep of one sweep pair (after its multi sweep: C1's gate)."""
        self.multi_of(pair)
        return self.run(runner.single_sweep(pair))

    @functools.cached_property
    def multi(self) -> list[TrialRecord]:
        return [r for pair in self.sweep_pairs for r in self.multi_of(pair)]

    @functools.cached_property
    def single(self) -> list[TrialRecord]:
        return [r for pair in self.sweep_pairs for r in self.single_of(pair)]

    @functools.cached_property
    def best_layer(self) -> int:
        """Argmax layer of all_demo transfer on the headline pair (the paper's depth 0.3 if
        nothing transfers, so that later experiments still have a layer: the swept layer
        nearest to it). Experiments at this layer draw fresh trials, so choosing it on the
        sweep's data does not bias them."""
        best = V.best_cell(self.cells(self.multi_of(HEADLINE)), V.pair_name(HEADLINE))
        if best is None or best.k == 0:
            return min(self.sweep_layers, key=lambda x: abs(x - 0.3 * self.n_layers))
        return best.layer

    @functools.cached_property
    def controls(self) -> list[TrialRecord]:
        return [r for c in CONTROLS for r in self.run(runner.control(c))]

    @functools.cached_property
    def thresholds(self) -> list[TrialRecord]:
        return [] if self.spec.is_paper else self.run(runner.THRESHOLDS)

    @functools.cached_property
    def competence(self) -> list[dict]:
        """Clean 5-shot accuracy per matrix task on prompts of their own (`competence`)."""
        from icl_core.experiments.competence import competence

        p = self.profile
        tasks = sorted(set(p.matrix_tasks + p.c7_variants)
                       | {t for pair in p.sweep_pairs for t in pair})  # fmt: skip
        config = {"tasks": tasks, "n": p.n_competence, "seed": p.seed}
        return self.stored("competence", config, lambda: competence(
            self.lm, tasks, p.n_competence, p.seed), code=("competence",))  # fmt: skip

    def incompetence_warning(self) -> str | None:
        """A warning, computed from `competence` (so before any patching run that reads it),
        when the model answers no clean prompt of any task: every patching trial would be
        excluded and the patching claims cannot be measured on this model."""
        if any(r["k"] for r in self.competence):
            return None
        n = self.profile.n_competence
        return (
            f"warning: {self.lm.info.name} answers none of {n} clean 5-shot prompts of any of "
            f"{len(self.competence)} tasks correctly: its patching claims cannot be measured "
            "(every trial is excluded as clean_target_wrong); only C6 (probes) can be"
        )

    @property
    def matrix_tasks(self) -> tuple[str, ...]:
        """The tasks of the matrix and of C7's similarities: the profile's matrix tasks, and
        under the rigorous protocol its C7 variants too."""
        p = self.profile
        return p.matrix_tasks + (() if self.spec.is_paper else p.c7_variants)

    @functools.cached_property
    def qualified_pairs(self) -> list[str]:
        """Ordered matrix pairs whose tasks both reach QUALIFYING_ACCURACY clean (measured on
        separate prompts before the matrix is run): the pairs that draw until enough trials
        count; C10 tests those of the profile's matrix tasks."""
        ok = {r["task"] for r in self.competence if r["accuracy"] >= QUALIFYING_ACCURACY}
        return [V.pair_name(pr) for pr in itertools.permutations(self.matrix_tasks, 2)
                if pr[0] in ok and pr[1] in ok]  # fmt: skip

    @functools.cached_property
    def matrix(self) -> list[TrialRecord]:
        """all_demo at the best layer for every ordered pair of `matrix_tasks`; under the
        rigorous protocol the pairs of a draw group share their draws and each qualified pair
        draws until enough trials count (`runner.matrix`); not run under an ablation."""
        return [] if self.spec.is_ablation else self.run(runner.matrix(self.matrix_tasks))

    @property
    def c10_pairs(self) -> list[str]:
        """The pairs C10 tests: the qualified pairs of the profile's matrix tasks (the paper's
        eight, not C7's variants)."""
        tasks = set(self.profile.matrix_tasks)
        return [q for q in self.qualified_pairs if set(q.split("->")) <= tasks]

    @functools.cached_property
    def c10_matrix(self) -> list[TrialRecord]:
        """`matrix` and, under the rigorous protocol, C10's rounds on its undecided pairs
        (`runner.c10_rounds`: they stop on outcomes, so C7's fixed-N rule reads `matrix`
        alone)."""
        if self.spec.is_paper:
            return self.matrix
        return self.matrix + runner.c10_rounds(self)

    @functools.cached_property
    def tracing(self) -> list[TrialRecord]:
        """C5's causal tracing (`tracing_rounds.c5_tracing` under the rigorous protocol)."""
        if self.spec.is_paper:
            return paper_runs.tracing(self)
        return c5_tracing(self)

    @functools.cached_property
    def noise_scale(self) -> list[float]:
        """Per-layer activation std (`tracing.stored_noise_scale`: the key rigorous tracing
        uses)."""
        from icl_core.experiments.tracing import stored_noise_scale

        if self.progress:
            self.progress(f"{self.model} noise_scale")
        return stored_noise_scale(self.lm, self.store, self.profile.seed)

    @functools.cached_property
    def probes(self) -> list[dict]:
        from icl_core.experiments.probes import run_probes

        p = self.profile
        config = {
            "tasks": list(PAPER_TASKS),
            "n_prompts": p.n_probe_prompts,
            "positions": list(PROBE_POSITIONS),
            "seed": p.seed,
            "protocol": self.probe_protocol,
        }
        return self.stored("probes", config, lambda: run_probes(
            self.lm, PAPER_TASKS, p.n_probe_prompts, PROBE_POSITIONS, None,
            example_source(self.probe_protocol), p.seed), code=("probes",))  # fmt: skip

    @functools.cached_property
    def c6_probes(self) -> list[dict]:
        """C6's cells: each probe at the best layer, last demo token, with its rounds of fresh
        held-out prompts while C6 is undecided (`probe_rounds.c6_rounds`)."""
        from icl_core.papers.cheng2026.probe_rounds import c6_rounds

        return c6_rounds(self)

    @property
    def probe_protocol(self) -> str:
        """Probes depend on the demos ingredient only: fixed demos are the paper's probe
        prompts, sampled demos the rigorous ones."""
        sampled = not self.spec.is_paper or self.spec.ingredient("demos") == "sampled"
        return "rigorous" if sampled else "paper"

    @functools.cached_property
    def similarity(self) -> list[dict]:
        """C7's surface and representation similarity of every ordered pair of `matrix_tasks`
        at the best layer, leaving out a task none of whose prompts lays out on this
        tokenizer (C7's figure names it)."""
        from icl_core.experiments import similarity as S

        p, layer = self.profile, self.best_layer
        tasks = list(self.matrix_tasks)
        config = {"tasks": tasks, "layer": layer, "n_prompts": p.n_similarity_prompts,
                  "seed": p.seed, "protocol": self.protocol}  # fmt: skip

        def compute() -> list[dict]:
            source = example_source(self.protocol)
            vectors = S.task_vectors(self.lm, tasks, layer, p.n_similarity_prompts,
                                     seed=p.seed, source=source, drop_unkept=True)  # fmt: skip
            kept = [t for t in tasks if t in vectors]  # C7 names the tasks left out
            surface = S.surface_similarity_matrix(kept, seed=p.seed, source=source)
            return S.pair_similarities(surface, S.representation_similarity_matrix(vectors))

        return self.stored("similarity", config, compute, code=("probes", "similarity"))

    # -- cells -------------------------------------------------------------------------
    def cells(self, records: list[TrialRecord]) -> list[Cell]:
        """Rigorous patching cells count only trials whose clean source prompt was answered
        correctly; the paper protocol counts every trial, as the paper did."""
        return aggregate(records, source_clean_only=not self.spec.is_paper)

    @functools.cached_property
    def multi_cells(self) -> list[Cell]:
        return self.cells(self.multi)

    @functools.cached_property
    def output_line_positions(self) -> float:
        rows = [r for r in self.thresholds if r.position_set == "output_lines" and r.outcome]
        return sum(len(r.target_positions) for r in rows) / len(rows) if rows else 0.0

    # -- verdicts ----------------------------------------------------------------------
    def verdict(self, claim: str, pair: tuple[str, str] | None = None) -> Verdict:
        """The claim's verdict on this model, decided as its declaration in
        `icl_core.papers.cheng2026.claims` says; `pair`: one sweep pair only (the claims of scope
        "pair": C1, C2, C3, C3-peak), else the model's verdict (C1 over every sweep pair that
        transfers; C2, C3, C3-peak on the headline pair)."""
        declared = get_claim(claim)
        if declared.scope == "family":
            raise ValueError(f"claim {claim!r} spans models; valid per-model claims: "
                             f"{PER_MODEL_CLAIMS}")  # fmt: skip
        kinds = [k for k, is_kind in (("paper", self.spec.is_paper),
                                      ("ablation", self.spec.is_ablation)) if is_kind]  # fmt: skip
        for kind in kinds:  # an ablation is a paper protocol too
            if kind in declared.not_measured:
                why = f"not measured under the {self.protocol} protocol: "
                return declared.with_paper(Verdict(claim, self.model, self.protocol,
                                                   "inconclusive",
                                                   why + declared.not_measured[kind]))  # fmt: skip
        if declared.scope == "pair" and pair is not None and pair not in self.sweep_pairs:
            raise ValueError(f"pair {pair} is not swept by profile {self.profile.name!r} under "
                             f"{self.protocol}: {list(self.sweep_pairs)}")  # fmt: skip
        v, rows = declared.decide(self, pair)
        if rows is not None:  # None: the claim reads no patching trials (C6's probes)
            if pair is not None:
                rows = [r for r in rows if r.pair == V.pair_name(pair)]
            v.details.update(rounds.trial_counts(rows))
        return declared.with_paper(v)

    @property
    def tracing_sets(self) -> tuple[str, tuple[str, ...]]:
        """C5's (query position, single demo positions) under this protocol."""
        if self.spec.is_paper:
            return "query_first", ("last_demo_token",)
        return "query_input_last", DEMO_SINGLE_SETS

    def records(self) -> list[TrialRecord]:
        """Every trial record computed so far (for reports)."""
        matrix = "c10_matrix" if "c10_matrix" in self.__dict__ else "matrix"
        names = ("multi", "single", "controls", "thresholds", matrix, "tracing")
        return [r for n in names if n in self.__dict__ for r in self.__dict__[n]]
