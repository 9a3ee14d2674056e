"""A tiny document model shared by the Markdown and HTML renderers.

A report is a list of blocks. Block text is plain text (renderers escape it); the only inline
markup is a `code span` in Paragraph and Bullets text. Table cells are already-formatted strings.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Heading:
    """A heading of `level` 1-6."""

    level: int
    text: str


@dataclass(frozen=True)
class Paragraph:
    """One paragraph of plain text (backtick code spans allowed)."""

    text: str


@dataclass(frozen=True)
class Table:
    """A table: `columns` header and `rows` of cells, each row as long as `columns`."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Bullets:
    """An unordered list of plain-text items (backtick code spans allowed)."""

    items: tuple[str, ...]


@dataclass(frozen=True)
class Image:
    """An embedded image; `src` is relative to the report file, `alt` doubles as caption."""

    src: str
    alt: str


Block = Heading | Paragraph | Table | Bullets | Image
