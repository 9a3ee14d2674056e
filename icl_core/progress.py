"""Progress lines of long computations: one type for a progress callback, one format."""

from __future__ import annotations

import sys
from collections.abc import Callable

Progress = Callable[[str], None]  # called with one line of progress, without the prefix


def print_progress(message: str) -> None:
    """`[icl-claims] <message>` on stderr, flushed."""
    print(f"[icl-claims] {message}", file=sys.stderr, flush=True)
