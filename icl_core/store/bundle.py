"""Store bundles: finished units carried between machines (or sessions) in one file, a gzip'd
tar of entry files (`<key[:2]>/<key>.json`, as in the store).

`export_bundle` writes the store's current entries (optionally only those of some models, or of
some keys such as a report's `units.txt`), sorted and with fixed timestamps, so equal contents
give equal bytes. `import_bundle` adds each member that is a valid entry for its key
(`ResultsStore.adopt`: format, key, checksum) and absent from the store, and counts the rest by
reason. An entry answers only under its own key, which names its setup (weights, config,
tokenizer, dtype, device, library versions) and result versions, so an imported unit never
answers for another setup; one from another setup is kept but unreached (`icl-claims store
prune` lists it only once its versions are stale).
"""

from __future__ import annotations

import gzip
import io
import os
import re
import tarfile
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path

from icl_core.errors import ICLClaimsError
from icl_core.store.results_store import ResultsStore

_MEMBER = re.compile(r"([0-9a-f]{2})/([0-9a-f]+)\.json")
IMPORT_COUNTS = ("added", "present", "rejected")


def export_bundle(store: ResultsStore, path: Path, models: Sequence[str] = (),
                  keys: Collection[str] | None = None) -> int:  # fmt: skip
    """Write the store's current entries (of `models` only, if given; of `keys` only, if given:
    e.g. the units a report was built from) to `path` atomically; the number written. Raises
    ICLClaimsError, writing nothing, when some of `keys` has no current entry in the store."""
    if keys is not None:
        absent = [k for k in keys if (e := store.entry(k)) is None or e.status != "current"]
        if absent:
            raise ICLClaimsError(
                f"{len(absent)} of the {len(keys)} units named have no current entry in "
                f"{store.root} (first: {absent[0]}); nothing written"
            )
        keys = set(keys)
    entries = [e for e in store.entries() if e.status == "current"
               and (not models or (e.meta or {}).get("model") in models)
               and (keys is None or e.path.name.removesuffix(".json") in keys)]  # fmt: skip
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f, gzip.GzipFile(fileobj=f, mode="wb", mtime=0) as gz, \
                tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:  # fmt: skip
            for e in entries:
                data = e.path.read_bytes()
                info = tarfile.TarInfo(f"{e.path.parent.name}/{e.path.name}")
                info.size, info.mtime, info.mode = len(data), 0, 0o644
                tar.addfile(info, io.BytesIO(data))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return len(entries)


def import_bundle(store: ResultsStore, path: Path) -> dict[str, int]:
    """Add the bundle's valid entries absent from `store`; counts of IMPORT_COUNTS ("rejected":
    a member that is not an entry file, or whose bytes are not a valid entry for its key)."""
    counts = dict.fromkeys(IMPORT_COUNTS, 0)
    with _open(path) as tar:
        for member, data in _members(tar, path):
            m = _MEMBER.fullmatch(member.name)
            if data is None or not m or not m[2].startswith(m[1]):
                counts["rejected"] += 1
                continue
            try:
                added = store.adopt(m[2], data)
            except ValueError:
                counts["rejected"] += 1
                continue
            counts["added" if added else "present"] += 1
    return counts


def _members(tar: tarfile.TarFile, path: Path) -> Iterator[tuple[tarfile.TarInfo, bytes | None]]:
    """(member, its bytes, None for what is not a file), in order; a truncated or corrupt
    bundle raises ICLClaimsError after the members read before the damage."""
    n = 0
    while True:
        try:
            member = tar.next()
            if member is None:
                return
            data = tar.extractfile(member).read() if member.isfile() else None
        except (EOFError, OSError, tarfile.TarError) as exc:
            raise ICLClaimsError(
                f"store bundle {path} is truncated or corrupt after {n} members: {exc}"
            ) from None
        n += 1
        yield member, data


def _open(path: Path) -> tarfile.TarFile:
    """The bundle opened for reading; ICLClaimsError naming the file if it is not one."""
    try:
        return tarfile.open(path, mode="r:gz")  # noqa: SIM115 (the caller closes it)
    except (EOFError, OSError, tarfile.TarError) as exc:
        raise ICLClaimsError(
            f"{path} is not a store bundle (a .tar.gz of entries, `icl-claims store export`): {exc}"
        ) from None
