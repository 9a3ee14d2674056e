"""Rounds: how an experiment adds trials after its first batch, and its two stopping rules.

- `sequential` stops on OUTCOMES (while a rule still names undecided conditions it can decide
  within the cap): valid only because every rule reading those records is anytime-valid
  (`icl_core.decisions`).
- `until_counted` stops on VALIDITY alone (counted trials per pair), never outcomes, so the
  fixed-N exact tests reading those records stay valid.

`Batch(pairs, n, seed, conditions)` runs n further trials of `pairs` (fresh seeds derived from
`seed`) on `conditions` (None: every condition) and returns their records; each call is its own
stored unit of work, so an interrupted run resumes after the last finished round.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from icl_core.records import TrialRecord
from icl_core.tasks import derive_seed

Pair = tuple[str, str]
Conditions = set[tuple[str, int]]
Batch = Callable[[Sequence[Pair], int, int, tuple[tuple[str, int], ...] | None], list[TrialRecord]]
MAX_DRAW_FACTOR = 4  # a sequential experiment draws at most this many times its cap per pair
FUTILE_AFTER = 0.5  # the fraction of its cap a pair counts before a rule may be judged futile


def counted_trials(records: list[TrialRecord], pair: Pair) -> int:
    """Trials (distinct seeds) of `pair` that count under the rigorous protocol: not excluded
    and clean source answered correctly where there is one (SPEC 5.4; `trial_counts`)."""
    return len({r.seed for r in records if (r.source_task, r.target_task) == pair
                and not r.excluded and r.source_clean_correct is not False})  # fmt: skip


def trial_counts(records: list[TrialRecord]) -> dict[str, int]:
    """{"drawn": distinct (pair, seed) trials, "counted": those that count (SPEC 5.4): not
    excluded, and the clean source answered correctly where there is a source prompt (a noise
    trial of causal tracing has none: `source_clean_correct` None)."""
    drawn = {(r.pair, r.seed) for r in records}
    counted = {(r.pair, r.seed) for r in records
               if not r.excluded and r.source_clean_correct is not False}  # fmt: skip
    return {"drawn": len(drawn), "counted": len(counted)}


@dataclass(frozen=True)
class Want:
    """What one undecided rule asks of a further round: the (position set, layer) conditions it
    reads, and the further counted trials it projects to decide at the observed rates
    (`Decision.projected`; None: its data point neither way)."""

    conditions: frozenset[tuple[str, int]]
    projected: int | None


OpenConditions = Callable[[list[TrialRecord], Pair], list[Want]]


def worth_drawing(wants: Sequence[Want], counted: int, cap: int) -> Conditions:
    """The conditions a pair's next round draws: every want's while fewer than FUTILE_AFTER x
    cap of its trials count; after that only those of wants projected to decide within the
    room left (cap - counted), so a rule that cannot decide by the cap at its observed rates
    (or whose data point neither way) draws no more and stays inconclusive with its
    projection. A cost rule only: which trials are drawn never changes an anytime-valid
    rule's error control; it can lower power near a margin, and the power table's figures
    are simulated with it (`tests/unit/test_sequential.py`)."""
    room = cap - counted
    early = counted < FUTILE_AFTER * cap
    kept = [w for w in wants if early or (w.projected is not None and w.projected <= room)]
    return set().union(*(w.conditions for w in kept))


def sequential(batch: Batch, records: list[TrialRecord], pairs: Sequence[Pair],
               n: int | Mapping[Pair, int], cap: int, round_size: int, seed: int,
               open_of: OpenConditions) -> list[TrialRecord]:  # fmt: skip
    """After a first batch (`records`, n trials drawn per pair, or `n[pair]`): while
    `open_of(records, pair)` wants undecided (position set, layer) conditions worth drawing
    (`worth_drawing`), fewer than `cap` trials of the pair count and fewer than MAX_DRAW_FACTOR x
    cap are drawn, a round of further trials on those conditions only (seeds derived from `seed` and
    `round:<round>`), sized to add about `round_size` counted trials at the pair's counted rate so
    far. Stops on outcomes: valid under anytime-valid rules only."""
    drawn = {tuple(pair): n[pair] if isinstance(n, Mapping) else n for pair in pairs}
    for round_ in itertools.count(1):
        grew = False
        for pair in drawn:
            counted = counted_trials(records, pair)
            room = min(cap - counted, MAX_DRAW_FACTOR * cap - drawn[pair])
            open_ = worth_drawing(open_of(records, pair), counted, cap) if room > 0 else set()
            if not open_:
                continue
            rate = max(counted, 1) / drawn[pair]
            k = min(math.ceil(min(round_size, cap - counted) / rate),
                    MAX_DRAW_FACTOR * cap - drawn[pair])  # fmt: skip
            records += batch([pair], k, derive_seed(seed, f"round:{round_}"), tuple(sorted(open_)))
            drawn[pair] += k
            grew = True
        if not grew:
            return records


def until_counted(batch: Batch, records: list[TrialRecord], units: Sequence[Sequence[Pair]],
                  n: int, target: int, max_draws: int, seed: int,
                  label: str) -> list[TrialRecord]:  # fmt: skip
    """After a first batch of n draws per pair (`records`): rounds of further draws (seeds
    derived from `seed` and `label:<round>`) until every pair of `units` has `target` counted
    trials or `max_draws` drawn, a unit's pairs drawn together (as many draws as the neediest of
    them wants, at its counted rate so far). Stops on validity counts alone."""
    drawn = {pair: n for unit in units for pair in unit}
    for round_ in itertools.count(1):
        wanted = {}
        for pair, n_drawn in drawn.items():
            counted = counted_trials(records, pair)
            room = max_draws - n_drawn
            if counted < target and room > 0:
                rate = max(counted, 1) / n_drawn
                wanted[pair] = min(room, math.ceil((target - counted) / rate))
        if not wanted:
            return records
        for unit in units:  # a unit's pairs have equal draws, hence equal room
            k = max(wanted.get(pair, 0) for pair in unit)
            if k:
                records += batch(list(unit), k, derive_seed(seed, f"{label}:{round_}"), None)
                for pair in unit:
                    drawn[pair] += k
