"""Render the document model (`document.py`) as Markdown (GitHub-flavoured tables)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from icl_core.report.document import Block, Bullets, Heading, Image, Paragraph, Table

_CODE_SPLIT = re.compile(r"(`[^`]+`)")


def _line(text: str) -> str:
    """One line of text: newlines and carriage returns become spaces."""
    return " ".join(str(text).splitlines())


def _esc(text: str) -> str:
    """'<' backslash-escaped outside code spans, so that data such as a task name 'a<b->c'
    cannot be read as raw HTML by a Markdown renderer."""
    parts = _CODE_SPLIT.split(str(text))
    return "".join(p if i % 2 else p.replace("<", "\\<") for i, p in enumerate(parts))


def _cell(text: str) -> str:
    """A table cell: on one line, backslashes doubled, '|' and '<' escaped."""
    return _line(text).replace("\\", "\\\\").replace("|", "\\|").replace("<", "\\<")


def render_table(table: Table) -> str:
    """A Markdown pipe table; '' when the table has no columns."""
    if not table.columns:
        return ""
    lines = [
        "| " + " | ".join(_cell(c) for c in table.columns) + " |",
        "|" + "|".join("---" for _ in table.columns) + "|",
    ]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in table.rows]
    return "\n".join(lines)


def render_block(block: Block) -> str:
    """One block as Markdown text (no trailing newline)."""
    if isinstance(block, Heading):
        return "#" * min(max(block.level, 1), 6) + " " + _esc(_line(block.text))
    if isinstance(block, Paragraph):
        return _esc(str(block.text).strip())
    if isinstance(block, Table):
        return render_table(block)
    if isinstance(block, Bullets):
        return "\n".join("- " + _esc(_line(item)) for item in block.items)
    if isinstance(block, Image):
        alt = _esc(_line(block.alt)).replace("[", "\\[").replace("]", "\\]")
        return f"![{alt}]({block.src})"
    raise TypeError(f"not a report block: {block!r}")


def render_markdown(blocks: Sequence[Block]) -> str:
    """The whole document: blocks separated by blank lines, ending with one newline."""
    parts = [render_block(b) for b in blocks]
    return "\n\n".join(p for p in parts if p) + "\n"
