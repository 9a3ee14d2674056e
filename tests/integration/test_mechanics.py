"""The mechanics checks pass on tiny models of every architecture and fail when patching is
broken (so they can fail); the CLI runs them."""

import contextlib

import pytest

from fixtures.models import tiny_loaded
from icl_core import engine
from icl_core.cli import main
from icl_core.mechanics import full_patch, run_mechanics, self_patch
from icl_core.models.tiny import ALL_TINY_ARCHS


@pytest.mark.parametrize("arch", ALL_TINY_ARCHS)
def test_every_check_passes_on_a_tiny_model(arch):
    checks = run_mechanics(tiny_loaded(arch))
    assert all(c.passed for c in checks), [c for c in checks if not c.passed]


def test_a_patch_that_does_nothing_fails_full_patch(monkeypatch):
    lm = tiny_loaded("llama")

    @contextlib.contextmanager
    def ignore_edits(model, edits):
        yield

    monkeypatch.setattr(engine, "edit_residual", ignore_edits)
    assert self_patch(lm).passed  # a no-op patch still looks like a self-patch...
    result = full_patch(lm)  # ...but cannot reproduce another prompt downstream
    assert not result.passed, result.detail


def test_models_check_mechanics_on_a_tiny_folder(tmp_path, capsys):
    from icl_core.models.tiny import tiny_model

    folder = tmp_path / "tiny"
    tm = tiny_model("qwen2")
    tm.model.save_pretrained(folder, safe_serialization=True)
    tm.tokenizer.save_pretrained(folder)
    assert main(["models", "check", str(folder), "--device", "cpu", "--mechanics",
                 "--competence-n", "2"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    for name in ("self_patch", "full_patch", "engine_vs_naive", "layouts"):
        assert f"mechanics {name}" in out and "FAILED" not in out
    assert "headline pair uppercase -> repeat_word: NOT measurable" in out
