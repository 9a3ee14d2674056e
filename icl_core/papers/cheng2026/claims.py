"""The paper's claims, one declaration each (issue 14.1): what a claim says, the paper's figure,
what the suite measures for it, its rule (a function of `icl_core.papers.cheng2026.verdicts`, whose
docstring states thresholds, error control and power), whether it is decided per sweep pair, per
model or per family, and the protocols that do not measure it (with why). A declaration with a
missing or malformed field fails at import. `claims/test_claims.py` runs one test per declaration;
`ModelSuite.verdict` decides through `Claim.decide`, which reads the suite's experiments."""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from icl_core.errors import UnknownNameError
from icl_core.papers.cheng2026 import verdicts as V
from icl_core.papers.cheng2026.design import HEADLINE
from icl_core.records import TrialRecord, Verdict, aggregate

if TYPE_CHECKING:
    from icl_core.papers.cheng2026.suite import ModelSuite

SCOPES = ("pair", "model", "family")  # pair: per sweep pair (and per model over its pairs)
PROTOCOL_KINDS = ("paper", "ablation")  # the rigorous protocol measures every claim
Decide = Callable[
    ["ModelSuite", "tuple[str, str] | None"], "tuple[Verdict, list[TrialRecord] | None]"
]
_ID = re.compile(r"^C(?P<n>[1-9][0-9]?)(?P<suffix>-[a-z]+)?$")


@dataclass(frozen=True)
class Claim:
    """One claim. `statement`: one sentence; `paper`: the paper's figure; `measurement`: what the
    suite measures; `rule`: the deciding function in `verdicts` (of this paper); `decide(suite,
    pair)`: its verdict on one model and the trial records it read (None where it reads none, as
    C6's probes), itself None for a family claim (`decide_family`); `not_measured`: protocol kind ->
    why that protocol does not measure it."""

    id: str
    statement: str
    paper: str
    measurement: str
    rule: Callable[..., Verdict]
    scope: str
    decide: Decide | None = None
    not_measured: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems = []
        if not _ID.match(self.id):
            problems.append("id must look like C1 or C3-peak")
        for name in ("statement", "measurement"):
            text = getattr(self, name)
            if not text or text != text.strip() or not text.endswith("."):
                problems.append(f"{name} must be a non-empty sentence ending with '.'")
        if not self.paper.strip():
            problems.append("paper must quote the paper's figure")
        name = getattr(self.rule, "__name__", "")
        if getattr(V, name, None) is not self.rule or not self.rule.__doc__:
            problems.append(
                "rule must be a documented function of icl_core.papers.cheng2026.verdicts"
            )
        if self.scope not in SCOPES:
            problems.append(f"scope must be one of {SCOPES}")
        if (self.decide is None) != (self.scope == "family"):
            problems.append("decide is required, except for a family claim")
        if set(self.not_measured) - set(PROTOCOL_KINDS) or not all(self.not_measured.values()):
            problems.append(f"not_measured maps protocol kinds {PROTOCOL_KINDS} to reasons")
        if problems:
            raise TypeError(f"claim {self.id!r}: " + "; ".join(problems))

    @property
    def test_id(self) -> str:
        """The claim's id in test names, zero-padded so that `-k C01` selects it."""
        m = _ID.match(self.id)
        return f"C{int(m['n']):02d}{m['suffix'] or ''}"

    def decide_family(self, per_model: dict, family: str, protocol: str) -> Verdict:
        """A family claim's verdict from its models' verdicts (`per_model`: `family_inputs`)."""
        if self.scope != "family":
            raise ValueError(f"claim {self.id!r} is decided per {self.scope}, not per family")
        return self.with_paper(self.rule(per_model, family, protocol))

    def with_paper(self, verdict: Verdict) -> Verdict:
        """`verdict` carrying this claim's paper figure."""
        return dataclasses.replace(verdict, paper=self.paper)


def _pairs(pair):
    return None if pair is None else [V.pair_name(pair)]


def _sweep(s: ModelSuite, pair) -> dict:
    return dict(n_layers=s.n_layers, pair=pair or HEADLINE, layers=s.sweep_layers,
                source_clean_only=not s.spec.is_paper)  # fmt: skip


def _c1(s: ModelSuite, pair):
    return V.c1(s.cells(s.single), s.multi_cells, s.model, s.protocol, _pairs(pair)), s.single


def _c2(s: ModelSuite, pair):
    return V.c2(s.multi_cells, s.model, s.protocol, pair or HEADLINE), s.multi


def _c3(s: ModelSuite, pair):
    return V.c3(s.multi, s.model, s.protocol, **_sweep(s, pair)), s.multi


def _c3_peak(s: ModelSuite, pair):
    return V.c3_peak(s.multi, s.model, s.protocol, **_sweep(s, pair)), s.multi


def _c5(s: ModelSuite, pair):
    verdict = V.c5(aggregate(s.tracing), s.model, s.protocol, s.n_layers, *s.tracing_sets)
    return verdict, s.tracing


def _c6(s: ModelSuite, pair):
    return V.c6(s.c6_probes, s.model, s.protocol, s.best_layer), None


def _c7(s: ModelSuite, pair):
    return V.c7(s.cells(s.matrix), s.similarity, s.model, s.protocol, s.profile.seed), s.matrix


def _c8(s: ModelSuite, pair):
    return V.c8(s.cells(s.thresholds), s.thresholds, s.model, s.protocol), s.thresholds


def _c9(s: ModelSuite, pair):
    return V.c9(s.cells(s.controls), s.model, s.protocol), s.controls


def _c10(s: ModelSuite, pair):
    """C10 reads the pairs of the profile's matrix tasks (the paper's), not C7's variants,
    with C10's own rounds (`ModelSuite.c10_matrix`)."""
    paper = {V.pair_name(pr) for pr in itertools.permutations(s.profile.matrix_tasks, 2)}
    cells = [c for c in s.cells(s.c10_matrix) if c.pair in paper]
    if s.spec.is_paper:
        return V.c10(cells, s.model, s.protocol), s.c10_matrix
    tasks = set(s.profile.matrix_tasks)
    competence = [r for r in s.competence if r["task"] in tasks]
    return V.c10(cells, s.model, s.protocol, s.c10_pairs, competence), s.c10_matrix


_MATRIX_ONLY = {"ablation": "the pair matrix is measured under the rigorous and paper protocols "
                "only"}  # fmt: skip

CLAIMS: dict[str, Claim] = {c.id: c for c in (
    Claim("C1", "Single-position intervention (each demo output's last token, the separator, the "
          "query tokens) gives no transfer at any layer.",
          "0% transfer at all 28 layers of Llama-3.2-3B; 0% [0, 7%] at L14",
          "single_sweep: every single position set x every layer of each pre-registered pair "
          "(source prompt with another query: SPEC 5.3), drawn in rounds on the undecided "
          "cells, trials with a clean-correct source; only on pairs whose all_demo patching "
          "transfers.", V.c1, "pair", _c1),
    Claim("C2", "Patching all demonstration tokens (or only the output tokens) transfers the "
          "source task.",
          "uppercase->repeat_word at L8: all_demo 96% [87, 99], output_only 94% [84, 98], "
          "input_only 0% [0, 7], N=50",
          "multi_sweep: all_demo / output_only / input_only / last_demo x every layer of each "
          "pre-registered pair, then rounds on the undecided layers.", V.c2, "pair", _c2),
    Claim("C3", "A best intervention layer lies near 30% of network depth.",
          "best layers 8/28, 5/16, 8/28, 8/26 (~30% depth)",
          "multi_sweep all_demo transfer at every layer on the same trials (paired), rounds "
          "until decided or the profile's cap.", V.c3, "pair", _c3),
    Claim("C3-peak", "The transfer peak is at about 30% depth, not in the earliest layers.",
          "the peak is at ~30% depth, not in the earliest layers",
          "as C3 (multi_sweep all_demo, every layer, paired trials).", V.c3_peak, "pair",
          _c3_peak),
    Claim("C4", "C2 and C3 generalize across families (LLaMA, Qwen, Gemma).",
          "upper->repeat best-layer transfer 0.90 / 0.60 / 0.90 / 0.40 (N=10)",
          "the C2 and C3 verdicts of the run's models of one family (one test per family).",
          V.c4, "family"),
    Claim("C5", "Noise at the query position disrupts the task; noise at any single demo "
          "position does not.",
          "query noise disrupts 53-100% in early-middle layers; 0% at single demo positions",
          "tracing: Gaussian noise, sigma = 3 x per-layer activation std (>= 100 prompts), at "
          "the query token and at each demo output's last token, every layer; clean-correct "
          "prompts only.", V.c5, "model", _c5),
    Claim("C6", "Probes decode the task at the last demo position though single-position "
          "patching does not transfer.",
          "nearest-centroid probe 100% at demo positions, 83% at query (L12)",
          "probes: nearest-centroid and logistic regression over the eight tasks, held-out "
          "prompts with randomized demos, at the best layer.", V.c6, "model", _c6),
    Claim("C7", "Transfer tracks representation compatibility, not surface similarity.",
          "r = -0.05 (surface) vs r = 0.31 (representation), 56 pairs",
          "matrix transfer at the best layer vs surface similarity (10 output-format features, "
          "cosine) and representation similarity (cosine of centred mean task vectors); under "
          "the rigorous protocol over the paper's eight tasks and the profile's variants.",
          V.c7, "model", _c7, _MATRIX_ONLY),
    Claim("C8", "Transfer needs many output positions and all demonstrations: sharp "
          "thresholds.",
          "1-7 output positions ~0%, 10 -> 10%, all -> 90%; 1-3 source demos 0%, 5 -> 93%",
          "thresholds: random subsets of k output-line positions (k = 1, 2, 3, 5, 7, 10, all; "
          "10 subsets) and the output lines of the last 1, 2, 3 or all 5 demos, at the best "
          "layer.", V.c8, "model", _c8,
          {"paper": "the release describes no threshold experiment to reproduce (rigorous "
                    "only)"}),  # fmt: skip
    Claim("C9", "Controls transfer nothing: random source, norm-matched noise, shuffled roles.",
          "random source, noise, shuffled positions: 0% (its own data: shuffled 55%)",
          "controls at the best layer on all_demo: source prompt of a third task, Gaussian "
          "vectors of the source states' norms, source states permuted across positions.",
          V.c9, "model", _c9),
    Claim("C10", "Only a minority of task pairs transfer.",
          "7 of 56 pairs >= 50% at L8",
          "matrix: all ordered pairs of the eight tasks, all_demo at the best layer.",
          V.c10, "model", _c10, _MATRIX_ONLY),
)}  # fmt: skip
PER_MODEL_CLAIMS = tuple(c for c, claim in CLAIMS.items() if claim.scope != "family")
PAIR_CLAIMS = tuple(c for c, claim in CLAIMS.items() if claim.scope == "pair")


def family_inputs(suites: list[ModelSuite]) -> dict[str, tuple[str, Verdict, Verdict]]:
    """C4's input from the run's suites of one protocol: model -> (family, C2 verdict, C3
    verdict)."""
    return {s.model: (s.lm.info.family, s.verdict("C2"), s.verdict("C3")) for s in suites}


def get_claim(claim: str) -> Claim:
    """The declaration of `claim`; an unknown id raises UnknownNameError listing the valid."""
    if claim not in CLAIMS:
        raise UnknownNameError("claim", claim, CLAIMS)
    return CLAIMS[claim]
