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
