"""The installed package: a wheel ships the claims with their data and the suite's plugins, and
`icl-claims run` names everything pytest needs, so the claims run from a wheel (issue 14.7)."""

import argparse
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from fixtures import PLUGINS
from icl_core.cli.run_cmd import claims_dir, pytest_argv

ROOT = Path(__file__).resolve().parents[2]


def test_the_wheel_ships_the_claims_with_their_data_and_the_plugins(tmp_path):
    """Built from a copy of the sources (setuptools writes build/ beside them)."""
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".*", "build", "dist", "reports", "*.egg-info", "__pycache__"))  # fmt: skip
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                    "--no-build-isolation", "-w", str(tmp_path), str(src)],
                   check=True, capture_output=True, cwd=tmp_path)  # fmt: skip
    (wheel,) = tmp_path.glob("icl_claims-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    wanted = {p.relative_to(ROOT).as_posix() for p in (ROOT / "claims").rglob("*")
              if p.is_file() and p.suffix in (".py", ".md")}  # fmt: skip
    wanted |= {f"{name.replace('.', '/')}.py" for name in PLUGINS}
    wanted |= {p.relative_to(ROOT).as_posix() for p in (ROOT / "icl_core" / "papers").rglob("*")
               if p.is_file() and p.suffix in (".py", ".json", ".ambr")}  # fmt: skip
    assert (
        "icl_core/papers/cheng2026/expectations.json" in wanted
        and "icl_core/papers/cheng2026/protocol/paper_tasks.json" in wanted
        and "icl_core/papers/cheng2026/snapshots/test_snapshots.ambr" in wanted
    )
    assert wanted <= names, sorted(wanted - names)


def test_run_passes_the_packaged_claims_and_the_plugins():
    args = argparse.Namespace(profile="ci", protocol="rigorous", device="cpu", dtype="auto",
                              workers=1, pytest_args=[])  # fmt: skip
    argv = pytest_argv(args, ["smollm2-135m"], Path("junit.xml"))
    assert claims_dir() == ROOT / "claims" and argv[0] == str(claims_dir())
    for name in PLUGINS:
        assert argv[argv.index(name) - 1] == "-p"
    assert {"--snapshot-warn-unused", "--snapshot-no-cleanup"} <= set(argv)
