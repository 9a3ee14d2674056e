"""Golden records: a small patching experiment on the tiny model of each family, checked against
outputs recorded in tests/integration/golden/records.json together with the result versions.

Outputs that change while ENGINE_VERSION / RESULT_VERSIONS stay equal fail: stored results
would then answer for code that computes something else. Bump the version of the code that
changed (icl_core/versions.py), then re-record with

    ICL_UPDATE_GOLDEN=1 .venv/bin/pytest -p no:cacheprovider \
        tests/integration/test_golden_records.py

Tiny random models answer every clean prompt wrongly, so the clean-target-wrong exclusion is
bypassed (it would drop every trial); everything else runs as in a real experiment.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path

import pytest
import torch

from fixtures.models import tiny_loaded
from icl_core import trials, versions
from icl_core.engine import generate
from icl_core.experiments.patching import PatchingConfig, run_pair
from icl_core.models.tiny import TINY_ARCHS
from icl_core.prompts.layout import tokenize_with_offsets
from icl_core.scoring import exclusion

GOLDEN = Path(__file__).parent / "golden" / "records.json"
RERECORD = (
    "ICL_UPDATE_GOLDEN=1 .venv/bin/pytest -p no:cacheprovider "
    "tests/integration/test_golden_records.py"
)
CONFIGS = (
    PatchingConfig("golden", (("uppercase", "first_letter"), ("antonym", "length")),
                   ("output_only", "last_demo_token", "query"), (0, 2), n_trials=2, k=3),
    PatchingConfig("golden_shuffled", (("repeat_word", "uppercase"),), ("output_lines",), (1,),
                   n_trials=1, k=3, control="shuffled"),
)  # fmt: skip
MARGIN_TOL = 2e-3  # margins are recorded to 3 decimals; allow for rounding across CPUs


def _versions() -> dict:
    return {"engine": versions.ENGINE_VERSION, "results": dict(versions.RESULT_VERSIONS)}


def _trial(lm, records) -> dict:
    first = records[0]
    ids, _ = tokenize_with_offsets(lm.tokenizer, first.target_prompt)
    (clean,) = generate(lm.model, lm.tokenizer, ids, [[]], 6)
    return {
        "experiment": first.experiment, "pair": first.pair, "seed": first.seed,
        "target_prompt": first.target_prompt, "source_prompt": first.source_prompt,
        "target_ids": ids, "clean_token_ids": list(clean.token_ids),
        "source_clean_correct": first.source_clean_correct,
        "conditions": [
            {"layer": r.layer, "position_set": r.position_set, "outcome": r.outcome,
             "excluded": r.excluded, "output": r.output,
             "margin": None if r.margin is None else round(r.margin, 3),
             "target_positions": list(r.target_positions),
             "source_positions": list(r.source_positions)}
            for r in records
        ],
    }  # fmt: skip


def _compute() -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for arch in TINY_ARCHS:
        lm = tiny_loaded(arch)
        out[arch] = []
        for cfg in CONFIGS:
            for s, t in cfg.pairs:
                by_seed: dict[int, list] = {}
                for r in run_pair(lm, cfg, s, t):
                    by_seed.setdefault(r.seed, []).append(r)
                out[arch] += [_trial(lm, rs) for rs in by_seed.values()]
    return out


def _differences(got: object, want: object, where: str = "") -> list[str]:
    if isinstance(got, dict) and isinstance(want, dict):
        keys = sorted(set(got) | set(want))
        return [d for k in keys for d in _differences(got.get(k), want.get(k), f"{where}.{k}")]
    if isinstance(got, list) and isinstance(want, list) and len(got) == len(want):
        return [d for i, (g, w) in enumerate(zip(got, want, strict=True))
                for d in _differences(g, w, f"{where}[{i}]")]  # fmt: skip
    if where.endswith(".margin") and isinstance(got, float) and isinstance(want, float):
        return [] if math.isclose(got, want, abs_tol=MARGIN_TOL) else [f"{where}: {got} != {want}"]
    return [] if got == want else [f"{where}: {got!r} != {want!r}"]


@pytest.fixture
def one_thread():
    """One CPU thread: the same reduction order on every machine (and faster at this size)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _write(doc: dict) -> None:
    """Indented JSON with each list of numbers on one line (readable diffs)."""
    text = json.dumps(doc, indent=1, ensure_ascii=False)
    text = re.sub(r"\[[-0-9.,\s]*\]", lambda m: re.sub(r"\s+", " ", m[0]).replace("[ ", "[")
                  .replace(" ]", "]"), text)  # fmt: skip
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(text + "\n", encoding="utf-8")


def test_golden_records(monkeypatch: pytest.MonkeyPatch, one_thread: None) -> None:
    monkeypatch.setattr(
        trials, "exclusion", lambda source, target, clean: exclusion(source, target, None)
    )
    got = _compute()
    if os.environ.get("ICL_UPDATE_GOLDEN") == "1":
        _write({"versions": _versions(), "families": got})
        pytest.skip(f"re-recorded {GOLDEN}")
    assert GOLDEN.is_file(), f"no golden records at {GOLDEN}; record them: {RERECORD}"
    recorded = json.loads(GOLDEN.read_text(encoding="utf-8"))
    if recorded["versions"] != _versions():
        pytest.fail(
            f"result versions changed since the golden records were made (recorded "
            f"{recorded['versions']}, now {_versions()}): check the new outputs are intended "
            f"and re-record: {RERECORD}"
        )
    diffs = _differences(got, recorded["families"])
    if diffs:
        shown = "\n  ".join(diffs[:12]) + (f"\n  ... {len(diffs) - 12} more" if diffs[12:] else "")
        pytest.fail(
            f"outputs differ from the golden records while the result versions are unchanged "
            f"({len(diffs)} differences):\n  {shown}\n"
            f"Stored results would answer for code that computes something else. Bump, in "
            f"icl_core/versions.py, ENGINE_VERSION if the shared computation changed (tasks, "
            f"prompts, layouts, interventions, engine, scoring, trials) or "
            f"RESULT_VERSIONS['patching'] if icl_core/experiments/patching.py did; then "
            f"re-record: {RERECORD}"
        )
