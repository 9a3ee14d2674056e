"""Turn a Verdict into a test outcome: holds -> pass; refuted -> fail with the figures;
inconclusive -> skip with the reason (never a silent pass)."""

import pytest

from icl_core.records import Verdict


def check(verdict: Verdict) -> None:
    where = f"{verdict.claim} on {verdict.model} ({verdict.protocol})"
    if verdict.status == "refuted":
        pytest.fail(f"{where} refuted: {verdict.figure}. Paper: {verdict.paper}", pytrace=False)
    if verdict.status == "inconclusive":
        pytest.skip(f"{where} inconclusive: {verdict.figure}")
    assert verdict.status == "holds", verdict
