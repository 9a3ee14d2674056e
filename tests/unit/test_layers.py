"""The core knows no paper: outside `icl_core/papers/`, no module of `icl_core` imports a paper's
package, except the entry points listed here with their reason (the CLI, which chooses the
paper), so a second paper is a second folder (CONTRIBUTING.md, "Adding a paper")."""

from __future__ import annotations

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "icl_core"
PAPERS = "icl_core.papers."
# entry point -> why it names the paper (a `--paper` choice would make each one a lookup)
COUPLED = {
    "icl_core.cli.run_cmd": "entry point: runs the paper's claims and profiles",
    "icl_core.cli.inspect_cmd": "entry point: shows the paper protocol's positions beside ours",
    "icl_core.cli.models_cmd": "entry point: says what the paper's claims can measure",
    "icl_core.cli.bench_cmd": "entry point: runs the bf16 agreement study on the paper's sweeps",
    "icl_core.cli.organisms_cmd": "entry point: the organisms' tokenizer covers the paper's data",
    "icl_core.cli.inspect_records": "entry point: the paper protocol's positions beside ours",
}


def _module(path: Path) -> str:
    parts = path.relative_to(CORE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
    return out


def test_only_the_listed_core_modules_import_a_paper():
    found = {}
    for path in CORE.rglob("*.py"):
        mod = _module(path)
        if mod.startswith(PAPERS) or mod == "icl_core.papers":
            continue
        named = sorted(i for i in _imports(path) if i.startswith(PAPERS))
        if named:
            found[mod] = named
    assert set(found) == set(COUPLED), (
        "core modules importing a paper (add a reason to COUPLED, or remove the import): "
        f"{ {m: found[m] for m in set(found) - set(COUPLED)} }; no longer coupled: "
        f"{sorted(set(COUPLED) - set(found))}"
    )
