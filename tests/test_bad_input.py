"""Bad input, one case per test (issue 16): a clear one-line error naming the problem and the
valid choices or the fix, with the entry point's usage exit code (CLI 2, pytest 4) and no
traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from icl_core.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _pytest_claims(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "claims", "--collect-only", "-q",
                           "-p", "no:cacheprovider", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)  # fmt: skip


@pytest.mark.parametrize(("model", "says"), [
    ("nosuchmodel", "unknown model 'nosuchmodel'; valid models: "),
    ("./no/such/folder", "model folder no/such/folder does not exist"),
])  # fmt: skip
def test_pytest_claims_with_a_bad_model_is_a_usage_error(model, says):
    run = _pytest_claims("--model", model)
    out = run.stdout + run.stderr
    assert run.returncode == 4, out
    assert says in out and "Traceback" not in out, out


def test_cli_with_a_missing_model_folder_is_a_usage_error(capsys):
    assert main(["models", "check", "./no/such/folder"]) == 2
    err = capsys.readouterr().err
    assert "model folder no/such/folder does not exist" in err and "Traceback" not in err


def test_ctrl_c_stops_a_run_at_once_with_no_report_and_says_how_to_resume(tmp_path):
    """SIGINT to the process group (as Ctrl-C sends it) while the parallel precompute runs."""
    import os
    import signal
    import time

    from icl_core.models.tiny import tiny_model

    folder = tmp_path / "tiny"
    tm = tiny_model("llama")
    tm.model.save_pretrained(folder, safe_serialization=True)
    tm.tokenizer.save_pretrained(folder)
    out = tmp_path / "report"
    run = subprocess.Popen(
        [str(Path(sys.executable).parent / "icl-claims"), "run", "--profile", "ci", "--models",
         str(folder), "--workers", "2", "--device", "cpu", "--out", str(out)],
        cwd=ROOT, stderr=subprocess.PIPE, text=True, start_new_session=True,
        env={**os.environ, "ICL_CLAIMS_CACHE": str(tmp_path / "cache")},
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
