"""Regression snapshots of each model's key figures (syrupy), per profile and protocol.

A change in a model, in transformers or in our code that moves a figure shows up as a snapshot
diff. Precision: rates rounded to 2 decimals, layers exact, statuses exact. A model/profile
without a recorded snapshot is skipped with the command that records one.
"""

from pathlib import Path

import pytest
from syrupy.extensions.amber import AmberSnapshotExtension

import icl_core.papers.cheng2026 as paper
from icl_core.papers.cheng2026 import verdicts as V
from icl_core.papers.cheng2026.claims import PER_MODEL_CLAIMS
from icl_core.papers.cheng2026.design import HEADLINE

pytestmark = [pytest.mark.zoo, pytest.mark.slow]
SNAPSHOT_DIR = Path(paper.__file__).parent / "snapshots"  # the paper's folder holds them
SNAPSHOTS = SNAPSHOT_DIR / "test_snapshots.ambr"


class PaperSnapshots(AmberSnapshotExtension):
    """Amber snapshots kept in the paper's folder instead of beside this test."""

    @classmethod
    def dirname(cls, *, test_location) -> str:
        return str(SNAPSHOT_DIR)


@pytest.fixture
def snapshot(snapshot):
    return snapshot.use_extension(PaperSnapshots)


def key_figures(suite) -> dict:
    best = V.best_cell(suite.multi_cells, V.pair_name(HEADLINE))
    return {
        "best_layer": suite.best_layer,
        "headline_all_demo_rate": None if best is None else round(best.rate, 2),
        "headline_all_demo_n": None if best is None else best.n,
        "verdicts": {c: suite.verdict(c).status for c in PER_MODEL_CLAIMS},
    }


def test_key_figures(suite, snapshot, request, pytestconfig):
    profile = pytestconfig.getoption("--profile")
    name = f"{request.node.name}[{profile}]"
    recorded = SNAPSHOTS.is_file() and f"# name: {name}\n" in SNAPSHOTS.read_text()
    if not recorded and not pytestconfig.getoption("--snapshot-update"):
        pytest.skip(f"no recorded snapshot {name}; record one with `pytest "
                    f"claims/test_snapshots.py --model ... --profile {profile} "
                    f"--snapshot-update`")  # fmt: skip
    assert key_figures(suite) == snapshot(name=profile)
