"""A report section its caller adds (e.g. a paper's comparison of protocols), so the core report
names no paper: `figures(writer, extra_tables)` draws the section's figures after the core's;
`blocks(extra_tables, verdicts, figures)` gives its blocks, placed after the verdict table."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from icl_core.records import Verdict
from icl_core.report.document import Block
from icl_core.report.plotting import FigureInfo, Writer

ExtraTables = dict[str, list[dict]]


@dataclass(frozen=True)
class Section:
    figures: Callable[[Writer, ExtraTables], None]
    blocks: Callable[[ExtraTables, Sequence[Verdict], Sequence[FigureInfo]], list[Block]]
