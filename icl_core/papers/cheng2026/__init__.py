"""arXiv 2605.04061, "Single-Position Intervention Fails: Distributed Output Templates Drive
In-Context Learning": claims C1-C10 (SPEC 4).

- `claims`: each claim declared once; `verdicts`: their rules; `design`: what they measure
  (headline pair, position sets, controls, subsets);
- `profiles`: ci, full, paper; `protocols`: rigorous, paper and its ablations;
- `suite`, `runner`, `top_up`, `schedule`, `probe_rounds`: the experiments per model, their
  rounds and job graph;
- `protocol/`: the paper's own protocol, flaws included (its task data, scorers, positions,
  patching and tracing);
- `headline`, `report_run`, `dtype_agreement`: the report's figures, the run's report, the
  bf16 agreement study;
- `expectations.json`: the refutations measured per model (strict xfails in `claims/`);
  `snapshots/`: the key figures per model, protocol and profile (`claims/test_snapshots.py`).
"""

from __future__ import annotations

import json
from importlib import resources

ARXIV = "2605.04061"


def expectations() -> dict:
    """The recorded expectations (`expectations.json`): each measured refutation with its
    figures, by claim, model, protocol and profile."""
    return json.loads(resources.files(__name__).joinpath("expectations.json").read_text())
