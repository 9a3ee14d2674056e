"""Run an experiment as units of work (a task pair, a task), each stored once in the results
store, so an interrupted run resumes at the first unfinished unit."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from icl_core.models.loading import LoadedModel
from icl_core.progress import Progress
from icl_core.provenance import setup_components, setup_hash
from icl_core.records import TrialRecord
from icl_core.store import ResultsStore, code_version, result_key


def get_or_compute_unit(
    store: ResultsStore,
    lm: LoadedModel,
    experiment: str,
    config: dict,
    compute: Callable[[], object],
    code: tuple[str, ...],
) -> object:
    """`compute()` once per (setup of `lm`, experiment, config, result versions of the
    experiment modules `code`), via `store`. The entry's meta holds the model name, the
    experiment, the versions and the setup's components in clear text (`environment`)."""
    version = code_version(*code)
    key = unit_key(lm, experiment, config, code)
    meta = {"model": lm.info.name, "experiment": experiment, "versions": version,
            "environment": setup_components(lm)}  # fmt: skip
    return store.get_or_compute(key, compute, meta=meta)


def unit_key(lm: LoadedModel, experiment: str, config: dict, code: tuple[str, ...]) -> str:
    """The store key of one unit (see `get_or_compute_unit`)."""
    return result_key(setup_hash(lm), experiment, config, code_version(*code))


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
    in order, named by `lm` (a stored unit may have been computed under another name of the
    same setup); each unit is computed once (`get_or_compute_unit`) when `store` is given.
    `code`: the experiment modules whose result versions enter the key."""
    records: list[TrialRecord] = []
    for j, (label, config, compute) in enumerate(units, 1):
        if progress:
            stored = store is not None and unit_key(lm, experiment, config, code) in store
            progress(f"{lm.info.name} {experiment} [{j}/{len(units)}] {label}: "
                     f"{'reused' if stored else 'computing'}")  # fmt: skip

        def rows(compute=compute) -> list[dict]:
            return [r.as_dict() for r in compute()]

        if store is None:
            payload = rows()
        else:
            payload = get_or_compute_unit(store, lm, experiment, config, rows, code)
        records += [TrialRecord.from_dict(d) for d in payload]
    name = lm.info.name
    return [r if r.model == name else dataclasses.replace(r, model=name) for r in records]
