"""Prompt templates as data: each is a sequence of (part, format) for a demo and for the query.

Parts are roles: `input_label`, `input`, `line_break`, `output_label`, `output`, `separator`.
`{x}` (the input) must appear in the `input` part and `{y}` (the answer) in the `output` part; the
query is the demo cut after `output_label`, so the model's next token starts the answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from icl_core.errors import InvalidChoiceError, UnknownNameError

PARTS = ("input_label", "input", "line_break", "output_label", "output", "separator")


@dataclass(frozen=True)
class Template:
    """A demo is `demo` rendered in order; the query is `demo` up to and including
    `output_label`. Empty formats are allowed (their role then has no characters)."""

    name: str
    demo: tuple[tuple[str, str], ...]

    def __post_init__(self) -> None:
        parts = [p for p, _ in self.demo]
        unknown = sorted(set(parts) - set(PARTS))
        if unknown:
            raise InvalidChoiceError(
                f"template {self.name!r}: unknown part(s) {unknown}; "
                f"valid parts: {', '.join(PARTS)}"
            )
        if len(set(parts)) != len(parts):
            raise InvalidChoiceError(f"template {self.name!r}: a part appears twice: {parts}")
        fmt = dict(self.demo)
        for part, field in (("input", "{x}"), ("output", "{y}")):
            if field not in fmt.get(part, ""):
                raise InvalidChoiceError(
                    f"template {self.name!r}: the {part!r} part must contain the field {field}"
                )
        if "output_label" not in fmt or parts.index("output_label") > parts.index("output"):
            raise InvalidChoiceError(
                f"template {self.name!r}: needs an 'output_label' part before 'output' (the "
                f"query ends with it)"
            )

    @property
    def query(self) -> tuple[tuple[str, str], ...]:
        parts = [p for p, _ in self.demo]
        return self.demo[: parts.index("output_label") + 1]


def _standard(name: str, input_label: str, output_label: str) -> Template:
    return Template(name, (
        ("input_label", input_label), ("input", " {x}"), ("line_break", "\n"),
        ("output_label", output_label), ("output", " {y}"), ("separator", "\n\n"),
    ))  # fmt: skip


TEMPLATES: dict[str, Template] = {
    t.name: t
    for t in (
        _standard("paper", "Input:", "Output:"),
        _standard("qa", "Q:", "A:"),
        Template(
            "arrow",
            (
                ("input", "{x}"),
                ("output_label", " ->"),
                ("output", " {y}"),
                ("separator", "\n"),
            ),
        ),  # fmt: skip
    )
}


def get_template(name: str) -> Template:
    if name not in TEMPLATES:
        raise UnknownNameError("template", name, TEMPLATES)
    return TEMPLATES[name]
