"""The expectations file is well formed: every recorded refutation names a known claim,
protocol and profile, and quotes measured figures."""

import re

from icl_core.papers.cheng2026 import expectations
from icl_core.papers.cheng2026.claims import CLAIMS as REGISTRY
from icl_core.papers.cheng2026.profiles import PROFILES
from icl_core.papers.cheng2026.protocols import parse_protocol

CLAIMS = set(REGISTRY)
PAIR_KEY = re.compile(r"^(?P<claim>[\w-]+)(\[(?P<pair>\w+->\w+)\])?$")


def test_expectations_are_well_formed():
    data = expectations()
    for model, entries in data.items():
        if model.startswith("_"):
            continue
        for key, reason in entries.items():
            name, protocol, profile = key.split(":")
            match = PAIR_KEY.match(name)
            assert match and match["claim"] in CLAIMS and profile in PROFILES, key
            parse_protocol(protocol)  # raises on an unknown protocol
            assert "refuted" in reason and re.search(r"\d+/\d+|r\(\w+\) = -?\d", reason), reason


FAKE = {
    "smollm2-135m": {"C6:rigorous:full": "refuted: 71/80", "C4:paper:full": "refuted: 0/40",
                     "C1[uppercase->repeat_word]:rigorous:full": "refuted: 9/40"},
    "gemma3-270m": {"C4:paper:full": "refuted: 0/40"},
}  # fmt: skip


def test_expected_refutation_lookup(monkeypatch):
    from claims import conftest

    monkeypatch.setattr(conftest, "EXPECTATIONS", FAKE)
    assert conftest.expected_refutation("C6", "smollm2-135m", "rigorous", "full")
    assert conftest.expected_refutation("C6", "smollm2-135m", "rigorous", "ci") is None
    assert conftest.expected_refutation("C1", "smollm2-135m", "rigorous", "full",
                                        "uppercase->repeat_word")  # fmt: skip
    assert conftest.expected_refutation("C1", "smollm2-135m", "rigorous", "full") is None


def test_family_expected_refuted_only_if_every_model_is(monkeypatch):
    from claims import conftest

    monkeypatch.setattr(conftest, "EXPECTATIONS", FAKE)
    assert conftest.family_expected_refutation([], "paper", "full") is None
    assert conftest.family_expected_refutation(["gemma3-270m"], "paper", "full")
    assert conftest.family_expected_refutation(["gemma3-270m"], "rigorous", "full") is None
    assert conftest.family_expected_refutation(["gemma3-270m", "smollm2-135m"], "paper", "full")
    assert conftest.family_expected_refutation(["gemma3-270m", "my-gemma"], "paper", "full") is None
