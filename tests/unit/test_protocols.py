"""Protocol names: parsing, canonical spelling, the "both" group, and clear errors."""

import pytest

from icl_core.errors import InvalidChoiceError
from icl_core.papers.cheng2026.protocols import (
    ABLATIONS,
    CHOICES,
    expand_protocols,
    parse_protocol,
)


def test_parse_names_the_switched_ingredients():
    assert parse_protocol("rigorous").is_paper is False
    paper = parse_protocol("paper")
    assert paper.is_paper and not paper.is_ablation
    assert [paper.ingredient(k) for k in ("demos", "positions", "scorer", "source", "layers")] == [
        "fixed", "paper", "paper", "mean", "grid"]  # fmt: skip
    two = parse_protocol("paper+demos=sampled+layers=all")
    assert two.switched == (("demos", "sampled"), ("layers", "all")) and two.is_ablation
    assert two.ingredient("demos") == "sampled" and two.ingredient("scorer") == "paper"


def test_both_is_rigorous_paper_and_every_single_ablation():
    assert expand_protocols("both") == ["rigorous", "paper", *ABLATIONS]
    assert len(ABLATIONS) == 6 and all(a.count("+") == 1 for a in ABLATIONS)
    assert expand_protocols("paper+scorer=strict") == ["paper+scorer=strict"]
    assert set(CHOICES) >= {"rigorous", "paper", "both", *ABLATIONS}


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("rigourous", "unknown protocol"),
        ("paper+demos=random", "bad ingredient 'demos=random'"),
        ("paper+colour=red", "bad ingredient"),
        ("paper+demos=sampled+demos=sampled", "bad ingredient"),
        ("paper+scorer=strict+demos=sampled", "write it as 'paper+demos=sampled+scorer=strict'"),
    ],
)
def test_bad_names_are_refused_with_the_valid_forms(name, message):
    with pytest.raises(InvalidChoiceError, match="valid|write it as") as err:
        parse_protocol(name)
    assert message in str(err.value)
