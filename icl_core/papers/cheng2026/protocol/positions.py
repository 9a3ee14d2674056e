"""The paper's own position algorithm, reproduced faithfully for the `paper` protocol (flaws kept),
and a diff tool that shows where its positions land versus the true roles of a Layout.

The algorithm (../paper_protocol/README.md): split the stripped prompt on "\\n"; a counter starts
at 0 (special tokens such as BOS are not counted); for each line except the last two (the query),
its own token count `len(encode(line, add_special_tokens=False))` is added to sets by line kind
("Input:" -> all_demo, input_only; "Output:" -> all_demo, output_only; lines of the last demo
also -> last_demo), then the counter advances by that count plus the token count of a lone "\\n"
(empty lines count 0 + "\\n"). Merges across lines (e.g. "\\n\\n" as one token) are ignored.
Source position p is then written into target position p (absolute index).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from icl_core.errors import LayoutError
from icl_core.prompts.layout import Layout

PAPER_SETS = ("all_demo", "input_only", "output_only", "last_demo")


@dataclass(frozen=True)
class PaperPosition:
    """A position the paper's algorithm assigns to line `kind` ("input"/"output") of demo `demo`."""

    index: int
    demo: int
    kind: str


@dataclass(frozen=True)
class PaperPositions:
    """The paper's position sets (absolute indices into the full tokenized prompt), the demo and
    line each index was meant for, and its single positions."""

    sets: dict[str, tuple[int, ...]]
    attributed: tuple[PaperPosition, ...]
    last_demo_token: int
    query_first: int


def paper_positions(text: str, tokenizer) -> PaperPositions:
    """Positions exactly as the paper computed them (see module docstring). Only for prompts in
    the paper's template ("Input:" / "Output:" lines)."""
    lines = text.strip().split("\n")
    if len(lines) < 2 or not lines[-1].startswith("Output:") or not lines[-2].startswith("Input:"):
        raise LayoutError("the paper's position algorithm needs the paper's template "
                          "(last two lines 'Input: q' and 'Output:')")  # fmt: skip
    n_demos = sum(line.startswith("Input:") for line in lines[:-2])
    newline = len(tokenizer.encode("\n", add_special_tokens=False))
    sets: dict[str, list[int]] = {name: [] for name in PAPER_SETS}
    attributed: list[PaperPosition] = []
    counter, demo = 0, -1
    for line in lines[:-2]:
        n = len(tokenizer.encode(line, add_special_tokens=False)) if line else 0
        idx = list(range(counter, counter + n))
        kind = (
            "input"
            if line.startswith("Input:")
            else "output"
            if line.startswith("Output:")
            else None
        )
        if kind == "input":
            demo += 1
        if kind:
            sets["all_demo"] += idx
            sets[f"{kind}_only"] += idx
            if demo == n_demos - 1:
                sets["last_demo"] += idx
            attributed += [PaperPosition(i, demo, kind) for i in idx]
        counter += n + newline
    enc = tokenizer(text, add_special_tokens=True)
    cut = text.rfind("\nInput:")
    return PaperPositions(
        sets={k: tuple(v) for k, v in sets.items()},
        attributed=tuple(attributed),
        last_demo_token=enc.char_to_token(cut - 1),
        query_first=enc.char_to_token(cut + 1),
    )


@dataclass(frozen=True)
class PaperDiff:
    """Where the paper's positions land. `landed[i]` = true role at the paper's index (or
    "<outside>"); `misplaced_per_demo[d]` = positions meant for demo d's lines that hold another
    role; `total` = number of attributed positions."""

    positions: PaperPositions
    landed: tuple[str, ...]
    misplaced_per_demo: dict[int, int]
    total: int

    @property
    def misplaced(self) -> int:
        return sum(self.misplaced_per_demo.values())


def paper_position_diff(layout: Layout, tokenizer) -> PaperDiff:
    """Compare the paper's positions on `layout.prompt.text` with the layout's true roles. A
    position meant for demo d's input line is correct iff it holds demo d's input label or input
    (likewise for output lines)."""
    pp = paper_positions(layout.prompt.text, tokenizer)
    landed, bad = [], Counter()
    for pos in pp.attributed:
        role = layout.roles[pos.index] if pos.index < len(layout) else "<outside>"
        landed.append(role)
        ok = {f"demo{pos.demo}.{pos.kind}_label", f"demo{pos.demo}.{pos.kind}"}
        bad[pos.demo] += role not in ok
    per_demo = {d: bad.get(d, 0) for d in range(layout.k)}
    return PaperDiff(pp, tuple(landed), per_demo, len(pp.attributed))
