"""Run reports: Markdown/HTML report, matplotlib figures, tidy CSV/JSON export (SPEC 8).

Public API:
- `write_report(out_dir, records, cells, verdicts, environment, extra_tables=None, title=...,
  sections=())`
  writes a run's report folder and returns the path of its report.md.
- `format_table(rows, columns=None)`: a Markdown table of a list of dicts.

`write_report`, `make_figures` and `FigureInfo` load lazily, so that `format_table` does not
import matplotlib.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from icl_core.report.tables import format_table

if TYPE_CHECKING:
    from icl_core.report.figures import make_figures
    from icl_core.report.plotting import FigureInfo
    from icl_core.report.writer import write_report

_LAZY = {
    "write_report": "icl_core.report.writer",
    "make_figures": "icl_core.report.figures",
    "FigureInfo": "icl_core.report.plotting",
}

__all__ = ["FigureInfo", "format_table", "make_figures", "write_report"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
