"""The results store (`ResultsStore`): atomic, checksummed, locked JSON entries; the contract is
in the `icl_core.store` package docstring."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock

from icl_core.errors import ICLClaimsError
from icl_core.store.entries import FORMAT, EntryInfo, _entry_info
from icl_core.store.keys import canonical_json

_held = threading.local()  # entry paths whose lock this thread holds in get_or_compute
_noticed_roots: set[Path] = set()  # roots whose old-way entries this process has reported
_notice_lock = threading.Lock()


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
        self.read_keys: dict[str, None] = {}
        """Keys this object returned a payload for (read or computed), in first-read order:
        the units a result built from it rests on (`icl_core.store.evidence`)."""

    def __repr__(self) -> str:
        return f"ResultsStore({str(self.root)!r})"

    def entries(self) -> Iterator[EntryInfo]:
        """Every entry file under the root, in path order (lock and temporary files skipped)."""
        for path in sorted(self.root.glob("*/*.json")):
            info = None if path.name.startswith(".") else _entry_info(path)
            if info is not None:
                yield info

    def entry(self, key: str) -> EntryInfo | None:
        """The entry file of `key` as found on disk (read from its head only), None if absent."""
        return _entry_info(self.path_for(key))

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
        got = hashlib.sha256(canonical_json(doc["payload"]).encode("utf-8")).hexdigest()
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
        self.read_keys.setdefault(key)
        return payload

    def __contains__(self, key: object) -> bool:
        """Whether a valid entry exists (validates it; does not touch hit/miss counters)."""
        if not isinstance(key, str):
            return False
        return self._load(key) is not _MISSING

    def adopt(self, key: str, raw: bytes) -> bool:
        """Add an entry file's bytes from elsewhere (a bundle) as the entry of `key`, unless a
        valid entry exists already (False). Raises ValueError naming the problem when the bytes
        are not a valid entry for `key` (format, key, checksum: the checks of `get`)."""
        self._check_key(key)
        try:
            self._validate(raw, key)
        except _Corrupt as exc:
            raise ValueError(f"not a valid entry for {key[:12]}...: {exc}") from None
        if key in self:
            return False
        self._write(self.path_for(key), raw.decode("utf-8"))
        return True

    # ---- writing

    @staticmethod
    def _encode(key: str, payload: object, meta: dict[str, Any] | None) -> str:
        try:
            canonical = canonical_json(payload)
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
            self.read_keys.setdefault(key)
            return payload
        self._notice_old_entries()
        path.parent.mkdir(parents=True, exist_ok=True)
        held.add(lock_path)
        try:
            with FileLock(lock_path):
                payload = self._load(key)  # another process may have finished it meanwhile
                if payload is not _MISSING:
                    self.stats.hits += 1
                    self.read_keys.setdefault(key)
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
                self.read_keys.setdefault(key)
                return json.loads(text)["payload"]
        finally:
            held.discard(lock_path)
