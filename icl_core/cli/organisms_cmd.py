"""`icl-claims organisms build|list`: the model organisms (planted mechanisms, issue 18)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from icl_core.models.acquire import shipped_dir
from icl_core.models.registry import REGISTRY
from icl_core.organisms import FIGURES_FILE, ORGANISMS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("organisms", help="build or list the model organisms")
    osub = p.add_subparsers(dest="organisms_command", required=True, metavar="ACTION")
    b = osub.add_parser("build", help="train the organisms from scratch (CPU, minutes)")
    b.add_argument("names", nargs="*", metavar="NAME", help=f"default: {', '.join(ORGANISMS)}")
    b.add_argument("--out", type=Path, default=Path("organisms-build"),
                   help="folder that receives one model folder per organism")  # fmt: skip
    b.set_defaults(func=_build)
    ls = osub.add_parser("list", help="the shipped organisms: digest, training figures, checks")
    ls.set_defaults(func=_list)


def _build(args: argparse.Namespace) -> int:
    from icl_core.organisms.build import build_organisms
    from icl_core.papers.cheng2026.protocol import paper_pairs

    for record in build_organisms(args.out, args.names, paper_pairs()):
        name, digest = record["name"], record["weights_sha256"]
        shipped = REGISTRY[name].weights_sha256
        same = "identical to the shipped folder" if digest == shipped else (
            f"differs from the shipped {shipped} (float results can differ across CPUs; load this "
            f"one with --model {args.out / name})")  # fmt: skip
        print(f"{name}: {args.out / name}, SHA-256 {digest}: {same}")
        print(f"  training {json.dumps(record['training'])}")
        print(f"  competence {json.dumps(record['checks']['competence'])}")
    return 0


def _list(args: argparse.Namespace) -> int:
    for name in ORGANISMS:
        record = json.loads((shipped_dir(name) / FIGURES_FILE).read_text())
        print(f"{name}: SHA-256 {record['weights_sha256']}")
        print(f"  training {json.dumps(record['training'])}")
        checks = {k: v for k, v in record["checks"].items() if k != "patch_transfer"}
        print(f"  checks {json.dumps(checks)}")
    return 0
