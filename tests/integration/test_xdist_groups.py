"""Tests of one model run on one xdist worker (`--dist loadgroup`), so a model is loaded and
its experiments computed once per run. pytest-xdist 3.8 writes the group into the node id,
which pytest 9.2 ignores (pytest-dev/pytest-xdist#1386): grouping then silently stops and two
workers wait on the same stored unit. This runs a tiny suite under loadgroup and checks the
node ids carry the group."""

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]
ROOT = Path(__file__).resolve().parents[2]
M1, M2 = "smollm2-135m", "gemma3-270m"  # registered names: checked, never loaded here


@pytest.mark.slow
def test_tests_of_one_model_share_a_worker(pytester: pytest.Pytester, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makepyfile(test_m="def test_a(model_name):\n    pass\n\n\n"
                               "def test_b(model_name):\n    pass\n")  # fmt: skip
    result = pytester.runpytest_subprocess(
        "-p", "fixtures.options", "-p", "no:randomly", "-n", "2", "--dist", "loadgroup", "-v",
        "--model", M1, "--model", M2, "--device", "cpu",
    )  # fmt: skip
    result.assert_outcomes(passed=4)
    out = result.stdout.str()
    for test in ("test_a", "test_b"):
        for model in (M1, M2):
            assert f"{test}[{model}]@model-{model}" in out, out
