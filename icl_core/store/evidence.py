"""The evidence of a result: the stored units it was built from (`ResultsStore.read_keys`) and
what they cost to compute.

A unit's cost is the `compute_seconds` that `ResultsStore.get_or_compute` records in its meta
when it computes it: worker seconds on the machine that computed it, whichever machine reads it
now. A unit stored by `put`, or missing from the store, counts as untimed (never as 0 s).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from icl_core.store.results_store import ResultsStore


def recorded_seconds(meta: dict | None) -> float | None:
    """The compute_seconds a unit's meta records; None, not 0, for an untimed unit."""
    seconds = (meta or {}).get("compute_seconds")
    timed = isinstance(seconds, int | float) and not isinstance(seconds, bool)
    return float(seconds) if timed else None


@dataclass
class Cost:
    """A tally of units and what they recorded: `units`, `timed_units` (those with a
    `recorded_seconds`) and their summed `compute_seconds`."""

    units: int = 0
    timed_units: int = 0
    compute_seconds: float = 0.0

    def add(self, meta: dict | None) -> None:
        """Count one unit of meta `meta` (None: a missing unit, untimed)."""
        self.units += 1
        if (recorded := recorded_seconds(meta)) is not None:
            self.timed_units += 1
            self.compute_seconds += recorded

    def as_dict(self) -> dict:
        return {"units": self.units, "timed_units": self.timed_units,
                "compute_seconds": round(self.compute_seconds, 2)}  # fmt: skip


def evidence_rows(store: ResultsStore, keys: Iterable[str]) -> list[dict]:
    """One row per (model, experiment) of the entries of `keys`: units, timed units and their
    summed compute_seconds, sorted by model then experiment."""
    costs: dict[tuple[str, str], Cost] = defaultdict(Cost)
    for key in keys:
        info = store.entry(key)
        meta = (info.meta if info else None) or {}
        costs[str(meta.get("model", "?")), str(meta.get("experiment", "?"))].add(meta)
    return [{"model": m, "experiment": e, **costs[m, e].as_dict()} for m, e in sorted(costs)]


def evidence_totals(rows: list[dict]) -> dict:
    """`evidence_rows` summed: units, timed units, compute_seconds (all models)."""
    return {
        "units": sum(r["units"] for r in rows),
        "timed_units": sum(r["timed_units"] for r in rows),
        "compute_seconds": round(sum(r["compute_seconds"] for r in rows), 2),
    }
