"""Render the document model (`document.py`) as a standalone HTML page (no dependencies).

All text is HTML-escaped; the only inline markup kept is `code` spans -> <code>.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from icl_core.report.document import Block, Bullets, Heading, Image, Paragraph, Table

_CODE = re.compile(r"`([^`]+)`")

_STYLE = """
body { font-family: sans-serif; max-width: 72em; margin: 2em auto; padding: 0 1em;
       line-height: 1.4; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.9em; }
th, td { border: 1px solid #bbb; padding: 0.2em 0.5em; text-align: left; }
th { background: #eee; }
tbody tr:nth-child(even) { background: #f7f7f7; }
code { background: #f0f0f0; padding: 0 0.2em; }
figure { margin: 1em 0; }
figure img { max-width: 100%; }
figcaption { font-size: 0.85em; color: #555; }
""".strip()


def _inline(text: str) -> str:
    """Escaped text with `code` spans turned into <code> elements."""
    return _CODE.sub(r"<code>\1</code>", html.escape(str(text), quote=True))


def _table(table: Table) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    body = "\n".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in table.rows
    )
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"


def render_block(block: Block) -> str:
    """One block as an HTML fragment."""
    if isinstance(block, Heading):
        level = min(max(block.level, 1), 6)
        return f"<h{level}>{html.escape(block.text)}</h{level}>"
    if isinstance(block, Paragraph):
        return f"<p>{_inline(block.text)}</p>"
    if isinstance(block, Table):
        return _table(block) if block.columns else ""
    if isinstance(block, Bullets):
        items = "\n".join(f"<li>{_inline(item)}</li>" for item in block.items)
        return f"<ul>\n{items}\n</ul>"
    if isinstance(block, Image):
        src, alt = html.escape(block.src, quote=True), html.escape(block.alt, quote=True)
        return (
            f'<figure><img src="{src}" alt="{alt}">'
            f"<figcaption>{html.escape(block.alt)}</figcaption></figure>"
        )
    raise TypeError(f"not a report block: {block!r}")


def render_html(blocks: Sequence[Block], title: str) -> str:
    """A complete, self-contained HTML5 page titled `title` holding `blocks`."""
    body = "\n".join(p for p in (render_block(b) for b in blocks) if p)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>\n{_STYLE}\n</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )
