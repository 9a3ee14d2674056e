"""The reduced-dtype agreement study and the heaviest-first model order of `icl-claims run`."""

from __future__ import annotations

import math

from icl_core.cli.run_cmd import heaviest_first
from icl_core.models.tiny import tiny_model
from icl_core.papers.cheng2026 import design
from icl_core.papers.cheng2026.dtype_agreement import agreement_study


def test_agreement_study_compares_every_condition_of_every_draw(tmp_path):
    tm = tiny_model("llama")
    tm.model.save_pretrained(tmp_path, safe_serialization=True)
    tm.tokenizer.save_pretrained(tmp_path)
    a = agreement_study(str(tmp_path), n_trials=2, device="cpu")
    per_draw = (len(design.MULTI_SETS) + len(design.SINGLE_SETS)) * tm.n_layers
    assert a.compared == 2 * per_draw
    assert 0 <= a.transfer_identical <= a.transfer_compared <= a.compared
    assert 0 <= a.identical <= a.compared and not math.isnan(a.fraction)
    assert set(a.verdicts_float32) == {"C1", "C2", "C3", "C3-peak"}
    d = a.as_dict()
    assert d["verdicts_unchanged"] == (a.verdicts_float32 == a.verdicts_reduced)


def test_heaviest_first_runs_the_largest_registered_model_first():
    order = heaviest_first(["smollm2-135m", "my/local-folder", "qwen2.5-coder-0.5b",
                            "gemma3-270m"])  # fmt: skip
    assert order == ["qwen2.5-coder-0.5b", "gemma3-270m", "smollm2-135m", "my/local-folder"]
