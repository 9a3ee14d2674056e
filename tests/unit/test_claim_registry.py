"""The claim registry: every claim declared once, completely; a malformed declaration fails at
construction with what is wrong."""

import dataclasses

import pytest

from icl_core.errors import UnknownNameError
from icl_core.papers.cheng2026 import verdicts as V
from icl_core.papers.cheng2026.claims import CLAIMS, PAIR_CLAIMS, PER_MODEL_CLAIMS, Claim, get_claim


def test_the_papers_claims_are_declared_in_order():
    assert list(CLAIMS) == ["C1", "C2", "C3", "C3-peak", "C4", "C5", "C6", "C7", "C8", "C9",
                            "C10"]  # fmt: skip
    assert PAIR_CLAIMS == ("C1", "C2", "C3", "C3-peak")
    assert "C4" not in PER_MODEL_CLAIMS and len(PER_MODEL_CLAIMS) == 10
    assert [c.test_id for c in CLAIMS.values()][:4] == ["C01", "C02", "C03", "C03-peak"]
    assert CLAIMS["C10"].test_id == "C10"
    assert all(c.paper and c.rule.__doc__ for c in CLAIMS.values())


@pytest.mark.parametrize(("change", "says"), [
    ({"id": "claim one"}, "id must look like C1"),
    ({"statement": ""}, "statement must be a non-empty sentence"),
    ({"measurement": "no full stop"}, "measurement must be a non-empty sentence"),
    ({"paper": " "}, "paper must quote"),
    ({"rule": len}, "rule must be a documented function of icl_core.papers.cheng2026.verdicts"),
    ({"scope": "layer"}, "scope must be one of"),
    ({"decide": None}, "decide is required"),
    ({"not_measured": {"gpu": "why"}}, "not_measured maps protocol kinds"),
    ({"not_measured": {"paper": ""}}, "not_measured maps protocol kinds"),
])  # fmt: skip
def test_a_malformed_declaration_fails_at_construction(change, says):
    with pytest.raises(TypeError, match=f"claim .*{says}"):
        dataclasses.replace(CLAIMS["C5"], **change)


def test_lookup_and_family_decision():
    with pytest.raises(UnknownNameError, match="C11"):
        get_claim("C11")
    with pytest.raises(ValueError, match="per model, not per family"):
        CLAIMS["C5"].decide_family({}, "llama", "rigorous")
    v = CLAIMS["C4"].decide_family({}, "llama", "rigorous")
    assert v.status == "inconclusive" and v.paper == CLAIMS["C4"].paper
    assert isinstance(CLAIMS["C1"], Claim) and CLAIMS["C1"].rule is V.c1
