"""Explicit result versions: what the results store keys a computation by, instead of code.

Bump a version on ANY change that can change an output (a record's outcome, output text,
margin, positions, exclusion, a stored number), and only then: a pure refactor (renames,
moved code, docstrings) changes no version, so every stored result stays valid.

- `ENGINE_VERSION`: the computation every experiment shares: tasks and their data, prompts and
  templates, layouts and position mapping, interventions, the engine, scoring, trials.
- `RESULT_VERSIONS[name]`: one experiment module (its own sampling, conditions, controls and
  records), by the name in `MODULES`: a module of `icl_core.experiments`, or of a paper's own
  protocol. An experiment's key holds the versions of the modules it names (`code=(...)` where
  it is stored), so bumping one leaves the others' results valid. The names are part of stored
  keys: a module that moves keeps its name.

`tests/integration/test_golden_records.py` fails when recorded outputs change while these are
unchanged.
"""

from __future__ import annotations

ENGINE_VERSION: int = 1
RESULT_VERSIONS: dict[str, int] = {
    "competence": 1,
    "patching": 1,
    "tracing": 1,
    "probes": 1,
    "similarity": 1,
    "paper_patching": 1,
    "paper_tracing": 1,
}
MODULES: dict[str, str] = {
    **{name: f"icl_core.experiments.{name}" for name in RESULT_VERSIONS},
    "paper_patching": "icl_core.papers.cheng2026.protocol.patching",
    "paper_tracing": "icl_core.papers.cheng2026.protocol.tracing",
}
