"""Tidy records: what experiments return, the store keeps, claims read and reports write.

`TrialRecord`: one trial under one condition (one row of trials.jsonl).
`Cell`: trials aggregated by (model, protocol, experiment, pair, layer, position_set,
condition) with the rate of `success` outcomes, its Wilson 95% interval, and the excluded
trials counted by reason (one row of results.csv).
Outcome vocabularies: patching experiments use transfer / preserve / malformed (success =
transfer); noise/ablation experiments use correct / incorrect for the target answer
(success = correct).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields

from icl_core.stats import wilson_interval


@dataclass(frozen=True)
class TrialRecord:
    """One trial under one condition. `outcome` is None iff `excluded` names the reason.
    `condition` carries what else identifies the manipulation (e.g. "sigma=3.0std",
    "k=5,subset=2", "control=shuffled"); "" for plain patching. Positions are token indices
    of the full tokenized prompts (BOS included)."""

    model: str
    family: str
    n_layers: int
    protocol: str
    experiment: str
    source_task: str
    target_task: str
    seed: int
    layer: int
    position_set: str
    outcome: str | None
    excluded: str | None = None
    condition: str = ""
    source_clean_correct: bool | None = None
    margin: float | None = None
    output: str = ""
    target_prompt: str = ""
    source_prompt: str | None = None
    source_query: str = ""
    target_positions: tuple[int, ...] = ()
    source_positions: tuple[int, ...] = ()
    n_unmatched: int = 0

    @property
    def depth(self) -> float:
        return self.layer / self.n_layers

    @property
    def pair(self) -> str:
        return f"{self.source_task}->{self.target_task}"

    def as_dict(self) -> dict:
        d = asdict(self)
        d["depth"] = self.depth
        return d

    @classmethod
    def from_dict(cls, d: dict) -> TrialRecord:
        names = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        for key in ("target_positions", "source_positions"):
            kw[key] = tuple(kw.get(key, ()))
        return cls(**kw)


SUCCESS = {"transfer": True, "preserve": False, "malformed": False, "source_copy": False,
           "correct": True, "incorrect": False}  # fmt: skip


@dataclass(frozen=True)
class Cell:
    """Aggregate of the valid trials of one cell. `k` successes of `n` valid trials; rate and
    Wilson 95% interval; `excluded` counts trials left out, by reason. With
    `source_clean_only`, trials whose clean source prompt was answered wrongly are excluded
    as `source_clean_wrong` (SPEC 5.4: transfer cannot exceed the source's competence)."""

    model: str
    family: str
    protocol: str
    experiment: str
    pair: str
    layer: int
    depth: float
    position_set: str
    condition: str
    n: int
    k: int
    rate: float
    ci_low: float
    ci_high: float
    excluded: dict[str, int] = field(default_factory=dict)
    source_clean_only: bool = False
    source_copies: int = 0  # valid trials whose output was the source's answer to its own query

    def as_dict(self) -> dict:
        d = asdict(self)
        d.update({f"excluded_{k}": v for k, v in self.excluded.items()})
        del d["excluded"]
        return d

    def __str__(self) -> str:
        lo, hi = 100 * self.ci_low, 100 * self.ci_high
        return (f"{self.k}/{self.n} = {100 * self.rate:.1f}% [{lo:.1f}, {hi:.1f}] "
                f"({self.pair}, layer {self.layer}, {self.position_set}"
                f"{', ' + self.condition if self.condition else ''})")  # fmt: skip


def cell_key(r: TrialRecord) -> tuple:
    return (r.model, r.protocol, r.experiment, r.pair, r.layer, r.position_set, r.condition)


def aggregate(records: Iterable[TrialRecord], source_clean_only: bool = False) -> list[Cell]:
    """Cells of `records`, in first-seen order. A cell with no valid trial has n = 0 and
    rate nan (its exclusions still say why)."""
    groups: dict[tuple, list[TrialRecord]] = defaultdict(list)
    for r in records:
        groups[cell_key(r)].append(r)
    cells = []
    for key, rows in groups.items():
        excluded: Counter[str] = Counter()
        k = n = copies = 0
        for r in rows:
            if r.excluded:
                excluded[r.excluded] += 1
            elif source_clean_only and r.source_clean_correct is False:
                excluded["source_clean_wrong"] += 1
            else:
                n += 1
                k += SUCCESS[r.outcome]
                copies += r.outcome == "source_copy"
        lo, hi = wilson_interval(k, n) if n else (0.0, 1.0)
        first = rows[0]
        cells.append(Cell(first.model, first.family, first.protocol, first.experiment, key[3],
                          first.layer, first.depth, first.position_set, first.condition, n, k,
                          k / n if n else float("nan"), lo, hi, dict(excluded),
                          source_clean_only, copies))  # fmt: skip
    return cells


STATUSES = ("holds", "refuted", "inconclusive")


@dataclass(frozen=True)
class Verdict:
    """A claim's outcome on one model under one protocol. `figure`: the deciding figure in
    words (rate, k/N, interval, layer); `paper`: the paper's own figure for the claim (set by
    the paper's `claims`);
    `details`: machine-readable numbers behind the figure (e-values, projected further
    counted trials, trials drawn and counted); `open_cells`: undecided cells."""

    claim: str
    model: str
    protocol: str
    status: str
    figure: str
    paper: str = ""
    details: dict = field(default_factory=dict)
    open_cells: tuple[Cell, ...] = field(default=(), repr=False, compare=False)

    def as_dict(self) -> dict:
        """Everything but `open_cells` (the cells more trials would help: for sampling)."""
        d = asdict(self)
        del d["open_cells"]
        return d
