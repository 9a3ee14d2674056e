"""The patching experiments of a suite as data (`PatchingSpec`), and the one runner (`run`) that
owns what they share: the protocol switch (the paper protocol runs `protocol.runs.patching`), the
stored batches (`patching.run_patching`), the rounds and their top-up rules (`rounds`,
`top_up`). `ModelSuite.run` memoizes it by spec (issue 14, item 2).

A spec names its trial counts by profile family: `trials="multi"` reads `Profile.n_multi` for
the first batch and `Profile.cap_multi` for the rounds' cap (the matrix: `n_matrix` draws, then
rounds on validity alone up to `max_matrix_draws`; then C10's own rounds, `c10_rounds`, up to
`cap_matrix`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

from icl_core.errors import InvalidChoiceError
from icl_core.experiments import rounds
from icl_core.experiments.patching import CONTROLS, PatchingConfig, run_patching
from icl_core.papers.cheng2026 import top_up
from icl_core.papers.cheng2026 import verdicts as V
from icl_core.papers.cheng2026.design import HEADLINE, MULTI_SETS, SINGLE_SETS, THRESHOLD_SETS
from icl_core.papers.cheng2026.profiles import Profile
from icl_core.papers.cheng2026.protocol import runs as paper_runs
from icl_core.records import TrialRecord
from icl_core.tasks import derive_seed, draw_groups

if TYPE_CHECKING:
    from icl_core.papers.cheng2026.suite import ModelSuite

Pair = tuple[str, str]
LAYERS = ("all", "best")  # every swept layer; the suite's best layer
STOPS = ("multi", "single", "control", "thresholds", "matrix")


@dataclass(frozen=True)
class PatchingSpec:
    """One patching experiment: `experiment` (its name in records and store keys), `pairs`,
    position `sets`, `layers` (one of LAYERS), `trials` (the profile's count family: n_<trials>,
    cap_<trials>), `control` (a `patching.CONTROLS` name), `stop` (its rounds' top-up rule, one
    of STOPS; None: one batch)."""

    experiment: str
    pairs: tuple[Pair, ...]
    sets: tuple[str, ...]
    layers: str
    trials: str
    control: str = ""
    stop: str | None = None

    def __post_init__(self) -> None:
        if self.layers not in LAYERS:
            raise InvalidChoiceError(f"layers={self.layers!r}; valid: {LAYERS}")
        if self.stop is not None and self.stop not in STOPS:
            raise InvalidChoiceError(f"stop={self.stop!r}; valid: {STOPS}")
        names = {f.name for f in fields(Profile)}
        families = sorted(n[2:] for n in names if n.startswith("n_"))
        if self.trials not in families:
            raise InvalidChoiceError(f"trials={self.trials!r}: no Profile.n_{self.trials}; "
                                     f"valid: {families}")  # fmt: skip
        capped = sorted(n[4:] for n in names if n.startswith("cap_"))
        if self.stop in top_up.OPEN and self.trials not in capped:
            raise InvalidChoiceError(f"stop={self.stop!r} needs Profile.cap_{self.trials}; "
                                     f"trials with a cap: {capped}")  # fmt: skip
        if self.control not in CONTROLS:
            raise InvalidChoiceError(f"control={self.control!r}; valid: {CONTROLS}")


def multi_sweep(pair: Pair) -> PatchingSpec:
    return PatchingSpec("multi_sweep", (pair,), MULTI_SETS, "all", "multi", stop="multi")


def single_sweep(pair: Pair) -> PatchingSpec:
    return PatchingSpec("single_sweep", (pair,), SINGLE_SETS, "all", "single", stop="single")


def control(name: str) -> PatchingSpec:
    return PatchingSpec("controls", (HEADLINE,), ("all_demo",), "best", "controls", name,
                        stop="control")  # fmt: skip


THRESHOLDS = PatchingSpec("thresholds", (HEADLINE,), THRESHOLD_SETS, "best", "thresholds",
                          stop="thresholds")  # fmt: skip


def matrix(tasks: tuple[str, ...]) -> PatchingSpec:
    return PatchingSpec("matrix", tuple(itertools.permutations(tasks, 2)), ("all_demo",), "best",
                        "matrix", stop="matrix")  # fmt: skip


def run(suite: ModelSuite, spec: PatchingSpec) -> list[TrialRecord]:
    """The records of `spec` on the suite's model under its protocol (module docstring)."""
    p = suite.profile
    layers = None if spec.layers == "all" else (suite.best_layer,)
    n = getattr(p, f"n_{spec.trials}")
    if suite.spec.is_paper:
        return paper_runs.patching(suite, spec.experiment, spec.pairs, spec.sets, layers, n,
                                   spec.control)  # fmt: skip
    batch = _batch(suite, spec.experiment, spec.sets, layers, spec.control,
                   shared=spec.stop == "matrix")  # fmt: skip
    records = batch(spec.pairs, n, p.seed)
    if spec.stop == "matrix":
        return _matrix_rounds(suite, spec, batch, records)
    if spec.stop is None:
        return records
    open_of = top_up.OPEN[spec.stop](suite)
    cap = getattr(p, f"cap_{spec.trials}")
    return rounds.sequential(batch, records, spec.pairs, n, cap, p.round_size, p.seed, open_of)


def _batch(suite: ModelSuite, experiment: str, sets: tuple[str, ...],
           layers: tuple[int, ...] | None, control: str = "",
           shared: bool = False) -> rounds.Batch:  # fmt: skip
    """A stored batch of `experiment` on the suite's model (`rounds.Batch`): a round that names
    its conditions skips trials whose clean source is wrong (they cannot count)."""

    def batch(pairs, k, seed, conditions=None) -> list[TrialRecord]:
        cfg = PatchingConfig(experiment, tuple(pairs), sets, layers, k, seed, control=control,
                             protocol=suite.protocol, conditions=conditions,
                             skip_source_wrong=conditions is not None,
                             shared_draws=shared)  # fmt: skip
        return run_patching(suite.lm, cfg, suite.store, suite.progress)

    return batch


def _matrix_rounds(suite: ModelSuite, spec: PatchingSpec, batch, records) -> list[TrialRecord]:
    """Each qualified pair (both tasks qualified) draws further trials (fresh seeds) until
    V.MIN_MATRIX_TRIALS count or `profile.max_matrix_draws` are drawn, the qualified tasks of a
    draw group sharing theirs (as many draws as the neediest of their pairs wants): a stopping
    rule on validity alone, never outcomes, so C10's fixed-N exact tests stay valid."""
    p = suite.profile
    qualified = [pair for pair in spec.pairs if V.pair_name(pair) in suite.qualified_pairs]
    tasks = {t for pair in qualified for t in pair}
    grouped = [list(itertools.permutations([t for t in g if t in tasks], 2))
               for g in draw_groups(suite.matrix_tasks)]  # fmt: skip
    units = [u for u in grouped if u] + [[pair] for pair in qualified
                                        if not any(pair in u for u in grouped)]  # fmt: skip
    return rounds.until_counted(batch, records, units, p.n_matrix, V.MIN_MATRIX_TRIALS,
                                p.max_matrix_draws, p.seed, "matrix-round")  # fmt: skip


def c10_rounds(suite: ModelSuite) -> list[TrialRecord]:
    """C10's rounds after the matrix (rigorous protocol): further trials of the C10 pairs
    shown neither way while C10 is undecided (`top_up.c10`), up to `profile.cap_matrix`
    counted per pair (none at 0), seeds derived from the profile's seed and "c10", each
    round a stored unit of the matrix experiment. Returns the new records only. Stops on
    outcomes: valid because C10's rule is anytime-valid; C7 (fixed-N) reads `suite.matrix`
    without them."""
    p = suite.profile
    pairs = [tuple(q.split("->")) for q in suite.c10_pairs]
    if not p.cap_matrix or not pairs:
        return []
    batch = _batch(suite, "matrix", ("all_demo",), (suite.best_layer,))
    first = list(suite.matrix)
    drawn = {pair: len({r.seed for r in first if (r.source_task, r.target_task) == pair})
             for pair in pairs}  # fmt: skip
    records = rounds.sequential(batch, list(first), pairs, drawn, p.cap_matrix, p.round_size,
                                derive_seed(p.seed, "c10"), top_up.c10(suite))  # fmt: skip
    return records[len(first) :]
