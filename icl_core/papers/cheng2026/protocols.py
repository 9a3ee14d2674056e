"""Protocol names (SPEC 6): "rigorous", "paper" (the released protocol, flaws included) and the
paper protocol with ingredients switched to their rigorous counterparts, e.g.
"paper+demos=sampled" (the ablations that attribute each difference between the two).

Ingredients of the paper protocol and their switched values: demos fixed -> sampled,
positions paper -> roles, scorer paper -> strict, source mean -> paired (see
`protocol.ingredients`), layers grid -> all (the paper's cross-model depth fractions 0.30, 0.44,
0.52, 0.59 vs every layer), noise absolute -> sigma3 (causal tracing: the release's absolute
scales 0.5, 1, 2, 5 vs 3 x the layer's activation std). "both" names rigorous, paper and every
single-ingredient ablation.
"""

from __future__ import annotations

from dataclasses import dataclass

from icl_core.errors import InvalidChoiceError
from icl_core.papers.cheng2026.protocol import ingredients as paper_protocol

RIGOROUS, PAPER = "rigorous", "paper"
# (the paper's value, its rigorous counterpart): the patching ingredients, plus the layer grid
# and the causal-tracing noise
INGREDIENTS = {**paper_protocol.INGREDIENTS, "layers": ("grid", "all"),
               "noise": ("absolute", "sigma3")}  # fmt: skip
ABLATIONS = tuple(f"{PAPER}+{k}={v[1]}" for k, v in INGREDIENTS.items())
GROUPS = {"both": (RIGOROUS, PAPER, *ABLATIONS)}
CHOICES = (RIGOROUS, PAPER, *ABLATIONS, *GROUPS)


@dataclass(frozen=True)
class Protocol:
    """A parsed protocol name. `switched`: the paper ingredients set to their rigorous value,
    in INGREDIENTS order (empty for "paper" and "rigorous")."""

    name: str
    switched: tuple[tuple[str, str], ...] = ()

    @property
    def is_paper(self) -> bool:
        return self.name != RIGOROUS

    @property
    def is_ablation(self) -> bool:
        return bool(self.switched)

    def ingredient(self, name: str) -> str:
        """The value of a paper ingredient under this protocol (the paper's unless switched)."""
        return dict(self.switched).get(name, INGREDIENTS[name][0])


def parse_protocol(name: str) -> Protocol:
    """ "rigorous", "paper" or "paper+<ingredient>=<value>[+...]"; anything else raises an
    InvalidChoiceError naming the valid forms."""
    valid = (f"valid: {RIGOROUS}, {PAPER}, or {PAPER} with switched ingredients, e.g. "
             f"{', '.join(ABLATIONS)}")  # fmt: skip
    if name == RIGOROUS:
        return Protocol(name)
    base, *parts = name.split("+")
    if base != PAPER:
        raise InvalidChoiceError(f"unknown protocol {name!r}; {valid}")
    switched = {}
    for part in parts:
        key, _, value = part.partition("=")
        if key not in INGREDIENTS or value != INGREDIENTS[key][1] or key in switched:
            raise InvalidChoiceError(f"protocol {name!r}: bad ingredient {part!r}; {valid}")
        switched[key] = value
    ordered = tuple((k, switched[k]) for k in INGREDIENTS if k in switched)
    canonical = PAPER + "".join(f"+{k}={v}" for k, v in ordered)
    if canonical != name:
        raise InvalidChoiceError(f"protocol {name!r}: write it as {canonical!r}")
    return Protocol(name, ordered)


def expand_protocols(choice: str) -> list[str]:
    """The protocols a command-line choice names ("both" -> rigorous, paper and the
    ablations); each checked by parse_protocol."""
    names = list(GROUPS.get(choice, (choice,)))
    for name in names:
        parse_protocol(name)
    return names
