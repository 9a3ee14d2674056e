"""Prompt rendering and token layouts (SPEC 5.2).

A template (data) renders an ICL example into text with the character span of every role; a layout
assigns every token of the tokenized prompt its role from the tokenizer's offsets on the whole
prompt. Source -> target positions are matched by role and offset within the role. A paper's own
position algorithm lives in its folder (`icl_core.papers.cheng2026.protocol.positions`).
"""

from icl_core.prompts.layout import Layout, Span, build_layout
from icl_core.prompts.mapping import PositionMap, map_positions
from icl_core.prompts.render import Prompt, render
from icl_core.prompts.templates import TEMPLATES, Template, get_template

__all__ = [
    "TEMPLATES", "Layout", "PositionMap", "Prompt", "Span", "Template", "build_layout",
    "get_template", "map_positions", "render",
]  # fmt: skip
