"""On-disk results cache: one JSON file per experiment unit, keyed by what determines it.

An experiment unit's result (a JSON-serialisable payload, typically a list of per-trial dicts)
is stored under `result_key(setup, experiment, config, version)`, so it is computed once per
(setup, experiment, config, result version) and shared by every test and process. `setup` is the
fingerprint of model and runtime (`icl_core.provenance.setup_hash`: weights, config, tokenizer,
dtype, device, library versions), `version` the explicit result version (`code_version`, from
`icl_core.versions`); `icl_core.experiments.units` builds such keys and puts the setup's
components in clear text in the entry's meta (`environment`).

Layout: `<root>/<key[:2]>/<key>.json` (root defaults to `cache_root() / "results"`), plus a
`<key>.json.lock` file lock beside each entry that `get_or_compute` has guarded.

Entry format (a JSON object):
    {"format": 1, "key": key, "meta": meta, "sha256": <hex>, "payload": payload}
where `sha256` is taken over the canonical JSON of the payload (sorted keys, no spaces,
NaN/Infinity allowed). `get` checks format, key and checksum; a corrupt entry is reported with
`warnings.warn` (naming the file), removed, and reads as a miss. Corruption is never raised and
corrupt data is never returned. Entries whose meta has no `environment` were keyed the old way
(weights and a hash of source files): no current key reaches them. They are ignored, never
deleted, and reported in one warning per process and root, at the first computation
(`icl-claims store prune` removes them).

Evidence (`icl_core.store.evidence`): each ResultsStore object records in `read_keys` the keys
it answered (read or computed), the units a result built from it rests on; `entry(key)` reads one
entry's head (meta, status) without its payload, and `compute_seconds` in a computed unit's meta
is its cost (`recorded_seconds`, tallied by `Cost`; a `put` unit is untimed).

Bundles (`icl_core.store.bundle`): the current entries exported to one file and imported into
another store, each member adopted only if it is a valid entry for its key (`ResultsStore.adopt`).

Guarantees:
- Writes are atomic (temporary file in the same directory, flush + fsync, `os.replace`): a reader
  sees either no entry or a complete one; an interrupted write or computation leaves no entry.
- `get_or_compute` holds a per-key file lock around check-compute-write, so concurrent processes
  (pytest-xdist workers) compute a key once; the others wait and read it. Distinct keys never
  block each other.
- Payloads go through JSON: floats round-trip exactly (NaN and +-Infinity included), tuples come
  back as lists, dict keys come back as strings. `get_or_compute` returns the JSON round-tripped
  payload even when it has just computed it, so a fresh and a cached result look the same.
"""

from icl_core.store.entries import FORMAT, EntryInfo
from icl_core.store.keys import code_version, is_current_version, result_key
from icl_core.store.results_store import ResultsStore, StoreStats

__all__ = [
    "FORMAT",
    "EntryInfo",
    "ResultsStore",
    "StoreStats",
    "code_version",
    "is_current_version",
    "result_key",
]
