"""The evidence of a result: the stored units it was built from (`ResultsStore.read_keys`) and
what they cost to compute.

A unit's cost is the `compute_seconds` that `ResultsStore.get_or_compute` records in its meta
when it computes it: worker seconds on the machine that computed it, whichever machine reads it
now. A unit stored by `put`, or missing from the store, counts as untimed (never as 0 s).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from icl_core.store.results_store import ResultsStore


def recorded_seconds(meta: dict | None) -> float | None:
    """The compute_seconds a unit's meta records; None, not 0, for an untimed unit."""
    seconds = (meta or {}).get("compute_seconds")
    timed = isinstance(seconds, int | float) and not isinstance(seconds, bool)
    return float(seconds) if timed else None


def evidence_rows(store: ResultsStore, keys: Iterable[str]) -> list[dict]:
    """One row per (model, experiment) of the entries of `keys`: units, timed units and their
    summed compute_seconds, sorted by model then experiment."""
    units: dict[tuple[str, str], int] = defaultdict(int)
    timed: dict[tuple[str, str], int] = defaultdict(int)
    seconds: dict[tuple[str, str], float] = defaultdict(float)
    for key in keys:
        info = store.entry(key)
        meta = (info.meta if info else None) or {}
        group = (str(meta.get("model", "?")), str(meta.get("experiment", "?")))
        units[group] += 1
        if (recorded := recorded_seconds(meta)) is not None:
            timed[group] += 1
            seconds[group] += recorded
    return [{"model": m, "experiment": e, "units": units[m, e], "timed_units": timed[m, e],
             "compute_seconds": round(seconds[m, e], 2)} for m, e in sorted(units)]  # fmt: skip


def evidence_totals(rows: list[dict]) -> dict:
    """`evidence_rows` summed: units, timed units, compute_seconds (all models)."""
    return {
        "units": sum(r["units"] for r in rows),
        "timed_units": sum(r["timed_units"] for r in rows),
        "compute_seconds": round(sum(r["compute_seconds"] for r in rows), 2),
    }
