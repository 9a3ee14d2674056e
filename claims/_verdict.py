"""Turn a Verdict into a test outcome: holds -> pass; refuted -> fail with the figures;
inconclusive -> skip with the reason and how far the data are from a decision (never a
silent pass)."""

import pytest

from icl_core.records import Verdict


def _progress(verdict: Verdict) -> str:
    d = verdict.details
    parts = []
    if "drawn" in d:
        parts.append(f"{d['counted']} of {d['drawn']} drawn trials counted")
    if d.get("projected_trials") is not None:
        parts.append(f"projected: about {d['projected_trials']} more counted trials")
    if d.get("projected_tasks") is not None:
        parts.append(f"projected: about {d['projected_tasks']} tasks with counted trials")
    return f" [{'; '.join(parts)}]" if parts else ""


def check(verdict: Verdict) -> None:
    where = f"{verdict.claim} on {verdict.model} ({verdict.protocol})"
    if verdict.status == "refuted":
        pytest.fail(f"{where} refuted: {verdict.figure}{_progress(verdict)}. Paper: "
                    f"{verdict.paper}", pytrace=False)  # fmt: skip
    if verdict.status == "inconclusive":
        pytest.skip(f"{where} inconclusive: {verdict.figure}{_progress(verdict)}")
    assert verdict.status == "holds", verdict


def check_pair(suite, claim: str, pair: tuple[str, str]) -> None:
    """`claim` on one sweep pair; a pair the protocol does not sweep is skipped, saying so."""
    if pair not in suite.sweep_pairs:
        pytest.skip(f"{claim}: the {suite.protocol} protocol sweeps {list(suite.sweep_pairs)} only")
    check(suite.verdict(claim, pair))
