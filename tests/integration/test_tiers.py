"""The test tiers' rules (tests/README.md) are checked at collection, not only written down."""

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_a_unit_test_taking_a_model_is_a_usage_error(pytester: pytest.Pytester, monkeypatch):
    """tests/unit takes no model fixture: collecting one is a usage error naming the test."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    unit = pytester.mkdir("tests") / "unit"
    unit.mkdir()
    (unit / "test_u.py").write_text("def test_fine():\n    pass\n\n\n"
                                    "def test_model(tiny):\n    pass\n")  # fmt: skip
    result = pytester.runpytest_subprocess(
        "-p", "fixtures.options", "-p", "fixtures.models", "-p", "no:randomly",
        "--collect-only", "tests",
    )  # fmt: skip
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    result.stderr.fnmatch_lines(["*tests/unit may not take a model fixture*test_u.py::test_model*"])
