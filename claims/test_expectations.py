"""The expectations file is well formed: every recorded refutation names a known claim,
protocol and profile, and quotes measured figures."""

import json
import re
from pathlib import Path

from fixtures.options import PROFILES
from icl_core.experiments.protocols import parse_protocol

CLAIMS = {f"C{i}" for i in range(1, 11)}


def test_expectations_are_well_formed():
    data = json.loads((Path(__file__).parent / "expectations.json").read_text())
    for model, entries in data.items():
        if model.startswith("_"):
            continue
        for key, reason in entries.items():
            claim, protocol, profile = key.split(":")
            assert claim in CLAIMS and profile in PROFILES
            parse_protocol(protocol)  # raises on an unknown protocol
            assert "refuted" in reason and re.search(r"\d+/\d+|r\(\w+\) = -?\d", reason), reason


def test_expected_refutation_lookup():
    from claims.conftest import expected_refutation

    assert expected_refutation("C6", "smollm2-135m", "rigorous", "full")
    assert expected_refutation("C6", "smollm2-135m", "rigorous", "ci") is None


def test_family_expected_refuted_only_if_every_model_is():
    from claims.conftest import family_expected_refutation

    assert family_expected_refutation([], "paper", "full") is None
    assert family_expected_refutation(["gemma3-270m"], "paper", "full")
    assert family_expected_refutation(["gemma3-270m"], "rigorous", "full") is None
    assert family_expected_refutation(["gemma3-270m", "my-gemma"], "paper", "full") is None
