"""Entry files as found on disk, read from their head only: what `icl-claims store info` and
`prune` list (`EntryInfo`), and the entry format (`FORMAT`)."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from icl_core.store.keys import is_current_version

FORMAT = 1
_HEAD_BYTES = 4096  # an entry's format, key and meta come before its payload: read that much
_ENTRY_HEAD = re.compile(r'\{"format": (\d+), "key": "([0-9a-f]+)", "meta": ')


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
