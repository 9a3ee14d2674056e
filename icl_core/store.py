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

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock

from icl_core import versions
from icl_core.errors import ICLClaimsError, UnknownNameError

FORMAT = 1
_HEAD_BYTES = 4096  # an entry's format, key and meta come before its payload: read that much
_ENTRY_HEAD = re.compile(r'\{"format": (\d+), "key": "([0-9a-f]+)", "meta": ')
_held = threading.local()  # entry paths whose lock this thread holds in get_or_compute
_noticed_roots: set[Path] = set()  # roots whose old-way entries this process has reported
_notice_lock = threading.Lock()


# --------------------------------------------------------------------------- versions


def code_version(*modules: str) -> str:
    """The explicit result version of a computation that uses the shared engine and the named
    experiment `modules` (names in `icl_core.versions.RESULT_VERSIONS`), e.g.
    "engine=1;patching=1". Unknown module names raise UnknownNameError. Depends on no source
    file, so a pure refactor changes no key; see `icl_core.versions` for when to bump."""
    parts = [f"engine={versions.ENGINE_VERSION}"]
    for name in sorted(set(modules)):
        if name not in versions.RESULT_VERSIONS:
            raise UnknownNameError("experiment module", name, versions.RESULT_VERSIONS)
        parts.append(f"{name}={versions.RESULT_VERSIONS[name]}")
    return ";".join(parts)


def is_current_version(version: object) -> bool:
    """Whether a version string written by `code_version` is still the current one."""
    if not isinstance(version, str) or not version.startswith("engine="):
        return False
    modules = [part.split("=")[0] for part in version.split(";")[1:]]
    try:
        return code_version(*modules) == version
    except UnknownNameError:
        return False


# --------------------------------------------------------------------------- keys


def _canonical(obj: object) -> str:
    """Canonical JSON: sorted keys, no spaces, NaN/Infinity allowed (Python's json spelling)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=True, ensure_ascii=True)


def _check_config_value(value: object, where: str) -> None:
    if value is None or isinstance(value, (str, bool, int)):
        return
    if isinstance(value, float):
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_config_value(item, f"{where}[{i}]")
        return
    if isinstance(value, dict):
        for k, item in value.items():
            if not isinstance(k, str):
                raise TypeError(f"config key {k!r} inside {where} must be a str")
            _check_config_value(item, f"{where}[{k!r}]")
        return
    raise TypeError(
        f"config value {where} has unsupported type {type(value).__name__} ({value!r}); "
        f"allowed: str, int, float, bool, None, and lists/tuples/dicts of those"
    )


def result_key(
    model_hash: str, experiment: str, config: dict[str, Any], version: str | None = None
) -> str:
    """SHA-256 hex of the canonical JSON of (model_hash, experiment, config, version).

    `model_hash`: the setup fingerprint (`icl_core.provenance.setup_hash`). `version`
    defaults to `code_version()`. Config values may be str, int, float, bool, None,
    and lists/tuples/str-keyed dicts of those; anything else raises TypeError naming the config
    key. Dict order does not matter; a tuple and a list with equal items give the same key;
    1, 1.0 and True give three different keys (JSON spells them differently).
    """
    for name, part in (("model_hash", model_hash), ("experiment", experiment)):
        if not isinstance(part, str) or not part:
            raise TypeError(f"{name} must be a non-empty str, got {part!r}")
    if not isinstance(config, dict):
        raise TypeError(f"config must be a dict, got {type(config).__name__}")
    for k, v in config.items():
        if not isinstance(k, str):
            raise TypeError(f"config key {k!r} must be a str")
        _check_config_value(v, repr(k))
    if version is None:
        version = code_version()
    elif not isinstance(version, str) or not version:
        raise TypeError(f"version must be a non-empty str or None, got {version!r}")
    parts = {"config": config, "experiment": experiment, "model": model_hash, "version": version}
    return hashlib.sha256(_canonical(parts).encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- entries on disk


@dataclass(frozen=True)
class EntryInfo:
    """An entry file as found on disk, read from its head only (the payload is not checked).

    status: "current" (written with the current format and result versions: a current key,
    under its setup, reaches it), "stale_version" (older result versions), "old_key" (keyed
    the old way: meta without "environment"), "unreadable" (no entry head or another format).
    `ident`: (st_dev, st_ino) when scanned, so a removal never hits a file replaced since.
    """

    path: Path
    size: int
    status: str
    meta: dict | None
    ident: tuple[int, int]


def _status(head: str, key: str) -> tuple[str, dict | None]:
    m = _ENTRY_HEAD.match(head)
    if not m or int(m[1]) != FORMAT or m[2] != key:
        return "unreadable", None
    try:
        meta, _ = json.JSONDecoder().raw_decode(head, m.end())
    except ValueError:
        return "unreadable", None
    if not isinstance(meta, dict):
        return "old_key", None
    if "environment" not in meta:
        return "old_key", meta
    if not is_current_version(meta.get("versions")):
        return "stale_version", meta
    return "current", meta


def _entry_info(path: Path) -> EntryInfo | None:
    """None if the file vanished meanwhile (a concurrent removal)."""
    key = path.name.removesuffix(".json")
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            head = f.read(_HEAD_BYTES)
            status, meta = _status(head.decode("ascii", "replace"), key)
            if status == "unreadable" and len(head) < st.st_size:  # a meta longer than the head
                head += f.read()
                status, meta = _status(head.decode("ascii", "replace"), key)
    except FileNotFoundError:
        return None
    return EntryInfo(path, st.st_size, status, meta, (st.st_dev, st.st_ino))


# --------------------------------------------------------------------------- store


@dataclass
class StoreStats:
    """Counters of one ResultsStore object (this process only).

    hits: lookups answered from disk. misses: lookups with no valid entry (for `get_or_compute`,
    one per computation). recomputed_corrupt: corrupt entries found, warned about and removed
    (each then reads as a miss, so `get_or_compute` recomputes it).
    """

    hits: int = 0
    misses: int = 0
    recomputed_corrupt: int = 0


class _Corrupt(Exception):
    """Internal: an entry that exists but cannot be trusted."""


_MISSING = object()


class ResultsStore:
    """Results cache rooted at `root` (default `cache_root() / "results"`)."""

    def __init__(self, root: Path | None = None) -> None:
        if root is None:
            from icl_core.models.acquire import cache_root

            root = cache_root() / "results"
        self.root = Path(root)
        self.stats = StoreStats()

    def __repr__(self) -> str:
        return f"ResultsStore({str(self.root)!r})"

    def entries(self) -> Iterator[EntryInfo]:
        """Every entry file under the root, in path order (lock and temporary files skipped)."""
        for path in sorted(self.root.glob("*/*.json")):
            info = None if path.name.startswith(".") else _entry_info(path)
            if info is not None:
                yield info

    def discard(self, entry: EntryInfo) -> bool:
        """Remove a scanned entry unless its file was replaced since; whether it was removed."""
        try:
            now = os.stat(entry.path)
            if (now.st_dev, now.st_ino) != entry.ident:
                return False
            os.unlink(entry.path)
        except FileNotFoundError:
            return False
        return True

    def _notice_old_entries(self) -> None:
        """Once per process and root: one warning counting the entries keyed the old way."""
        root = self.root.resolve()
        with _notice_lock:
            if root in _noticed_roots:
                return
            _noticed_roots.add(root)
        n = sum(e.status == "old_key" for e in self.entries())
        if n:
            warnings.warn(
                f"results store {self.root}: {n} entries keyed the old way (weights and source "
                f"hash) are ignored; `icl-claims store prune --yes` removes them",
                UserWarning,
                stacklevel=3,
            )

    @staticmethod
    def _check_key(key: str) -> None:
        if (
            not isinstance(key, str)
            or len(key) < 3
            or not all(c in "0123456789abcdef" for c in key)
        ):
            raise ICLClaimsError(f"invalid result key {key!r}: expected a lowercase hex digest")

    def path_for(self, key: str) -> Path:
        """Path of the entry for `key`: `root/key[:2]/key.json`."""
        self._check_key(key)
        return self.root / key[:2] / f"{key}.json"

    # ---- reading

    def _load(self, key: str) -> object:
        """Payload of a valid entry, or `_MISSING`. Corrupt entries are warned about and removed."""
        path = self.path_for(key)
        try:
            with open(path, "rb") as f:
                ident = os.fstat(f.fileno())
                raw = f.read()
        except FileNotFoundError:
            return _MISSING
        try:
            return self._validate(raw, key)
        except _Corrupt as exc:
            self.stats.recomputed_corrupt += 1
            warnings.warn(
                f"corrupt results-cache entry {path} ({exc}); removing it, it will be recomputed",
                RuntimeWarning,
                stacklevel=3,
            )
            self._remove_if_same(path, ident)
            return _MISSING

    @staticmethod
    def _validate(raw: bytes, key: str) -> object:
        try:
            doc = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError is a ValueError
            raise _Corrupt(f"unreadable JSON: {exc}") from None
        except RecursionError:
            raise _Corrupt("unreadable JSON: nested too deeply") from None
        if not isinstance(doc, dict):
            raise _Corrupt("not a JSON object")
        missing = {"format", "key", "sha256", "payload"} - doc.keys()
        if missing:
            raise _Corrupt(f"missing field(s) {sorted(missing)}")
        if doc["format"] != FORMAT:
            raise _Corrupt(f"format {doc['format']!r}, expected {FORMAT}")
        if doc["key"] != key:
            raise _Corrupt(f"stored key {doc['key']!r} differs from its file name")
        got = hashlib.sha256(_canonical(doc["payload"]).encode("utf-8")).hexdigest()
        if got != doc["sha256"]:
            raise _Corrupt(f"payload checksum mismatch (stored {doc['sha256']!r}, got {got})")
        return doc["payload"]

    @staticmethod
    def _remove_if_same(path: Path, ident: os.stat_result) -> None:
        """Remove `path` unless it was replaced (by a concurrent writer) since we read it."""
        try:
            now = os.stat(path)
            if (now.st_dev, now.st_ino) == (ident.st_dev, ident.st_ino):
                os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            warnings.warn(f"could not remove corrupt entry {path}: {exc}", RuntimeWarning, 3)

    def get(self, key: str) -> object | None:
        """Payload stored under `key`, or None if absent or corrupt (a corrupt one is removed)."""
        payload = self._load(key)
        if payload is _MISSING:
            self.stats.misses += 1
            return None
        self.stats.hits += 1
        return payload

    def __contains__(self, key: object) -> bool:
        """Whether a valid entry exists (validates it; does not touch hit/miss counters)."""
        if not isinstance(key, str):
            return False
        return self._load(key) is not _MISSING

    # ---- writing

    @staticmethod
    def _encode(key: str, payload: object, meta: dict[str, Any] | None) -> str:
        try:
            canonical = _canonical(payload)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"payload for result {key[:12]}... is not JSON-serialisable: {exc}"
            ) from exc
        if meta is not None and not isinstance(meta, dict):
            raise TypeError(f"meta must be a dict or None, got {type(meta).__name__}")
        doc = {
            "format": FORMAT,
            "key": key,
            "meta": meta,
            "sha256": hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
            "payload": payload,
        }
        try:
            return json.dumps(doc, allow_nan=True, ensure_ascii=True)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"meta for result {key[:12]}... is not JSON-serialisable: {exc}"
            ) from exc

    def put(self, key: str, payload: object, meta: dict[str, Any] | None = None) -> None:
        """Store `payload` under `key` atomically (replacing any entry).

        Raises TypeError if payload or meta is not JSON-serialisable. On any failure (or
        interruption) the previous state is kept (the old entry or none) and no temporary file
        is left behind.
        """
        self._write(self.path_for(key), self._encode(key, payload, meta))

    def _write(self, path: Path, text: str) -> None:
        """Atomically replace `path` with `text` (temp file in the same dir, fsync, rename)."""
        key = path.name.removesuffix(".json")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{key}.{os.getpid()}.{secrets.token_hex(6)}.tmp")
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        self._fsync_dir(path.parent)

    @staticmethod
    def _fsync_dir(directory: Path) -> None:
        """Best effort: make the rename durable (not supported everywhere)."""
        try:
            fd = os.open(directory, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)

    def get_or_compute(
        self, key: str, compute: Callable[[], object], meta: dict[str, Any] | None = None
    ) -> object:
        """Stored payload for `key`, computing and storing it first if absent or corrupt.

        Holds the key's file lock around check-compute-write: concurrent callers (threads or
        processes) compute it once, the rest wait and read the result. If `compute` raises,
        nothing is stored and the exception propagates. Returns the JSON round-tripped payload
        (tuples as lists) whether it was computed now or read. Calling it for the same key from
        inside its own `compute` raises ICLClaimsError (it would deadlock).
        """
        path = self.path_for(key)
        held: set[str] = _held.__dict__.setdefault("paths", set())
        lock_path = f"{path.resolve()}.lock"
        if lock_path in held:
            raise ICLClaimsError(
                f"get_or_compute re-entered for result {key[:12]}... from its own compute"
            )
        payload = self._load(key)  # fast path: no lock for a hit
        if payload is not _MISSING:
            self.stats.hits += 1
            return payload
        self._notice_old_entries()
        path.parent.mkdir(parents=True, exist_ok=True)
        held.add(lock_path)
        try:
            with FileLock(lock_path):
                payload = self._load(key)  # another process may have finished it meanwhile
                if payload is not _MISSING:
                    self.stats.hits += 1
                    return payload
                self.stats.misses += 1
                start = time.perf_counter()
                value = compute()
                if meta is None or isinstance(meta, dict):  # the cost, for `store info`
                    meta = {
                        **(meta or {}),
                        "compute_seconds": round(time.perf_counter() - start, 2),
                    }
                text = self._encode(key, value, meta)
                self._write(path, text)
                return json.loads(text)["payload"]
        finally:
            held.discard(lock_path)
