"""Render an ICL example with a template into text plus the character span of every role."""

from __future__ import annotations

from dataclasses import dataclass

from icl_core.prompts.templates import Template, get_template
from icl_core.tasks import ICLExample


@dataclass(frozen=True)
class CharSpan:
    """Characters [start, end) of `part` in demo `demo` (None for the query)."""

    part: str
    demo: int | None
    start: int
    end: int

    @property
    def role(self) -> str:
        return f"{'query' if self.demo is None else f'demo{self.demo}'}.{self.part}"


@dataclass(frozen=True)
class Prompt:
    """A rendered prompt: its text, its example, the template name and the role spans (in
    text order; empty parts are omitted)."""

    text: str
    example: ICLExample
    template: str
    spans: tuple[CharSpan, ...]

    @property
    def k(self) -> int:
        return len(self.example.demos)


def render(example: ICLExample, template: Template | str = "paper") -> Prompt:
    """Render demos then the query. Demo values and the query are inserted verbatim."""
    tpl = get_template(template) if isinstance(template, str) else template
    pieces: list[str] = []
    spans: list[CharSpan] = []
    pos = 0

    def emit(parts: tuple[tuple[str, str], ...], demo: int | None, x: str, y: str) -> None:
        nonlocal pos
        for part, fmt in parts:
            s = fmt.replace("{x}", x).replace("{y}", y)
            if s:
                spans.append(CharSpan(part, demo, pos, pos + len(s)))
                pieces.append(s)
                pos += len(s)

    for i, (x, y) in enumerate(example.demos):
        emit(tpl.demo, i, x, y)
    emit(tpl.query, None, example.query, "")
    return Prompt("".join(pieces), example, tpl.name, tuple(spans))
