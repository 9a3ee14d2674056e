"""File names derived from data (model ids, task names): safe, unique, deterministic."""

from __future__ import annotations

import re

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def slug(text: str) -> str:
    """`text` with every run of characters outside [A-Za-z0-9._-] replaced by '-'."""
    return _UNSAFE.sub("-", str(text)).strip("-.") or "x"


def unique_slug(text: str, used: set[str]) -> str:
    """slug(text), suffixed -2, -3, ... if already in `used`; the result is added to `used`."""
    base = slug(text)
    name, i = base, 1
    while name.lower() in used:
        i += 1
        name = f"{base}-{i}"
    used.add(name.lower())
    return name
