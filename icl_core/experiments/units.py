"""Run an experiment as units of work (a task pair, a task), each stored once in the results
store, so an interrupted run resumes at the first unfinished unit."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from icl_core.models.loading import LoadedModel
from icl_core.records import TrialRecord
from icl_core.store import ResultsStore, code_version, result_key

Progress = Callable[[str], None]


def run_units(
    lm: LoadedModel,
    experiment: str,
    units: Sequence[tuple[str, dict, Callable[[], list[TrialRecord]]]],
    store: ResultsStore | None = None,
    progress: Progress | None = None,
    *,
    code: tuple[str, ...],
) -> list[TrialRecord]:
    """`units`: (label for progress, store-key config, compute). Returns every unit's records
    in order; each unit is computed once per (model weights, experiment, config, code
    version) when `store` is given. `code`: the experiment modules whose source enters the
    code version (`icl_core.store.code_version`)."""
    records: list[TrialRecord] = []
    for j, (label, config, compute) in enumerate(units, 1):
        if progress:
            progress(f"{lm.info.name} {experiment} [{j}/{len(units)}] {label}")

        def rows(compute=compute) -> list[dict]:
            return [r.as_dict() for r in compute()]

        if store is None:
            payload = rows()
        else:
            key = result_key(lm.info.weights_sha256, experiment, config, code_version(*code))
            payload = store.get_or_compute(key, rows, meta={"model": lm.info.name})
        records += [TrialRecord.from_dict(d) for d in payload]
    return records
