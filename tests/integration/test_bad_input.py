"""Bad input, one case per test (issue 16): a clear one-line error naming the problem and the
valid choices or the fix, with the entry point's usage exit code (CLI 2, pytest 4) and no
traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from fixtures.models import saved_tiny
from icl_core.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _pytest_claims(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "claims", "--collect-only", "-q",
                           "-p", "no:cacheprovider", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)  # fmt: skip


@pytest.mark.parametrize(("model", "says"), [
    ("nosuchmodel", "unknown model 'nosuchmodel'; valid models: "),
    ("./no/such/folder", "model folder no/such/folder does not exist"),
])  # fmt: skip
@pytest.mark.slow
def test_pytest_claims_with_a_bad_model_is_a_usage_error(model, says):
    run = _pytest_claims("--model", model)
    out = run.stdout + run.stderr
    assert run.returncode == 4, out
    assert says in out and "Traceback" not in out, out


def test_cli_with_a_missing_model_folder_is_a_usage_error(capsys):
    assert main(["models", "check", "./no/such/folder"]) == 2
    err = capsys.readouterr().err
    assert "model folder no/such/folder does not exist" in err and "Traceback" not in err


@pytest.mark.slow
def test_ctrl_c_stops_a_run_at_once_with_no_report_and_says_how_to_resume(tmp_path):
    """SIGINT to the process group (as Ctrl-C sends it) while the parallel precompute runs."""
    import os
    import signal
    import time

    folder = saved_tiny(tmp_path / "tiny")
    out = tmp_path / "report"
    run = subprocess.Popen(
        [str(Path(sys.executable).parent / "icl-claims"), "run", "--profile", "ci", "--models",
         str(folder), "--workers", "2", "--device", "cpu", "--out", str(out)],
        cwd=ROOT, stderr=subprocess.PIPE, text=True, start_new_session=True,
        env={**os.environ, "ICL_CLAIMS_CACHE": str(tmp_path / "cache")},
        # as from a terminal: a test run launched in the background without job control
        # (e.g. `nohup ... &`) passes SIGINT on ignored, and Ctrl-C would then mean nothing
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    lines = []
    for line in run.stderr:
        lines.append(line)
        if "schedule: start" in line:
            break
    time.sleep(1.0)
    sent = time.perf_counter()
    os.killpg(run.pid, signal.SIGINT)
    _, rest = run.communicate(timeout=60)
    err = "".join(lines) + rest
    assert run.returncode == 130, err
    assert time.perf_counter() - sent < 15, err
    assert "Traceback" not in err, err
    assert "run the same command again to resume" in err.strip().splitlines()[-1]
    assert not (out / "report.md").exists()


@pytest.mark.slow
def test_pytest_claims_on_an_unsupported_architecture_is_a_usage_error(tmp_path):
    from transformers import T5Config, T5ForConditionalGeneration

    from icl_core.models.tiny import tiny_model

    folder = tmp_path / "t5"
    T5ForConditionalGeneration(T5Config(d_model=16, d_ff=32, num_layers=1, num_heads=2,
                                        d_kv=8, vocab_size=64)).save_pretrained(folder)  # fmt: skip
    tiny_model("llama").tokenizer.save_pretrained(folder)
    run = _pytest_claims("--model", str(folder))
    out = run.stdout + run.stderr
    assert run.returncode == 4, out
    assert "unsupported architecture 't5'" in out and "Traceback" not in out, out


def _cli(capsys, *argv: str) -> str:
    capsys.readouterr()  # drop earlier output (e.g. save_pretrained's progress bar)
    assert main(list(argv)) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err


@pytest.mark.slow
def test_a_folder_without_a_tokenizer_is_refused_by_every_entry_point(tmp_path, capsys):
    folder = saved_tiny(tmp_path / "no-tokenizer", tokenizer=False)
    says = "has no tokenizer (none of tokenizer.json, tokenizer.model, vocab.json, vocab.txt)"
    assert says in _cli(capsys, "models", "check", str(folder))
    assert says in _cli(capsys, "inspect-prompt", "--model", str(folder), "--task", "uppercase")
    assert says in _cli(capsys, "run", "--models", str(folder), "--out", str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()  # arguments are checked before anything is created
    run = _pytest_claims("--model", str(folder))
    assert run.returncode == 4 and says in run.stderr and "Traceback" not in run.stderr


def test_a_damaged_tokenizer_file_is_a_clear_error(tmp_path, capsys):
    folder = saved_tiny(tmp_path / "bad-tokenizer")
    (folder / "tokenizer.json").write_text("{ not json")
    err = _cli(capsys, "inspect-prompt", "--model", str(folder), "--task", "uppercase")
    assert f"the tokenizer of {folder} in {folder} cannot be loaded" in err


def _gguf(path: Path) -> Path:
    """A small, well-formed GGUF (two f32 tensors; not a loadable model)."""
    import numpy as np
    from gguf import GGUFWriter

    w = GGUFWriter(str(path), "llama")
    w.add_tensor("a.weight", np.arange(4096, dtype=np.float32).reshape(64, 64))
    w.add_tensor("b.weight", np.ones((32, 32), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


@pytest.mark.slow
def test_a_truncated_or_header_damaged_gguf_is_refused_with_its_sha256(tmp_path, capsys):
    from icl_core.models.acquire import sha256_file

    truncated = _gguf(tmp_path / "truncated.gguf")
    data = truncated.read_bytes()
    truncated.write_bytes(data[: len(data) - 1000])
    err = _cli(capsys, "models", "check", str(truncated))
    assert "weights look corrupted: truncated.gguf is" in err
    assert f"SHA-256 of the weights: {sha256_file(truncated)}" in err
    damaged = _gguf(tmp_path / "damaged.gguf")
    data = bytearray(damaged.read_bytes())
    data[24:40] = b"\xee" * 16  # the first key's length and name
    damaged.write_bytes(bytes(data))
    err = _cli(capsys, "models", "check", str(damaged))
    assert "weights look corrupted: damaged.gguf is not a readable GGUF file" in err
    run = _pytest_claims("--model", str(damaged))
    assert run.returncode == 4 and "weights look corrupted" in run.stderr


def test_weights_that_blow_up_the_residual_stream_are_refused(tmp_path, capsys):
    """A folder whose weights are finite but absurd (as a GGUF damaged in its tensor data
    gives): refused by the integrity check of every load, with the weights' SHA-256."""
    import torch
    from safetensors.torch import load_file, save_file

    folder = saved_tiny(tmp_path / "blown")
    (weights,) = folder.glob("*.safetensors")
    tensors = load_file(weights)
    name = next(k for k in tensors if "mlp.down_proj" in k)
    tensors[name] = tensors[name] * 1e12
    save_file(tensors, weights, metadata={"format": "pt"})
    err = _cli(capsys, "models", "check", str(folder))
    assert "weights look corrupted: block " in err and "beyond the sane bound 1e+09" in err
    assert "SHA-256 of the weights: " in err
    tensors[name][0, 0] = torch.nan
    save_file(tensors, weights, metadata={"format": "pt"})
    err = _cli(capsys, "models", "check", str(folder))
    assert f"weights look corrupted: parameter model.{name.removeprefix('model.')}" in err


def test_run_checks_device_and_dtype_once_before_creating_anything(tmp_path, capsys):
    out = tmp_path / "out"
    err = _cli(capsys, "run", "--device", "tpu", "--out", str(out))
    assert "unknown device 'tpu'" in err and not out.exists()
    err = _cli(capsys, "run", "--dtype", "float8", "--out", str(out))
    assert "unknown dtype 'float8'" in err and not out.exists()


def test_float16_on_cpu_is_warned_about(tmp_path):
    from icl_core.models.loading import load_model

    folder = saved_tiny(tmp_path / "tiny")
    with pytest.warns(UserWarning, match="float16 on CPU is slow and overflow-prone"):
        load_model(str(folder), device="cpu", dtype="float16")


def test_a_slow_tokenizer_gets_a_layout_error_not_a_key_error():
    from transformers import PreTrainedTokenizer

    from icl_core.errors import LayoutError
    from icl_core.prompts import build_layout, render
    from icl_core.tasks import sample_example

    class Slow(PreTrainedTokenizer):  # offsets unsupported, as in any slow tokenizer
        def __init__(self):
            super().__init__()

        @property
        def vocab_size(self):
            return 3

        def get_vocab(self):
            return {"a": 0, "b": 1, "c": 2}

        def _tokenize(self, text):
            return list(text)

        def _convert_token_to_id(self, token):
            return 0

        def _convert_id_to_token(self, index):
            return "a"

    with pytest.raises(LayoutError, match="gives no character offsets"):
        build_layout(render(sample_example("uppercase", seed=0)), Slow())


def test_inspect_prompt_notes_a_prompt_beyond_the_context(tmp_path, capsys):
    from icl_core.models.tiny import tiny_model

    tm = tiny_model("llama")
    tm.model.config.max_position_embeddings = 16
    folder = tmp_path / "short-context"
    tm.model.save_pretrained(folder, safe_serialization=True)
    tm.tokenizer.save_pretrained(folder)
    tm.model.config.max_position_embeddings = 512  # the shared tiny model is left as it was
    capsys.readouterr()
    assert main(["inspect-prompt", "--model", str(folder), "--task", "uppercase"]) == 0
    out = capsys.readouterr().out
    assert "no room within the model's context of 16 for an answer" in out
    assert "excluded as too_long" in out
