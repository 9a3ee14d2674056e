"""`icl-claims models list|fetch|check`."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from icl_core.errors import InvalidChoiceError, ModelLoadError
from icl_core.models import acquire
from icl_core.models.acquire import shipped_dir
from icl_core.models.locate import hf_cache_folder
from icl_core.models.registry import DEFAULT_MODELS, REGISTRY, get_spec


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list, fetch or check models")
    msub = p.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    ls = msub.add_parser("list", help="registered models and whether they are available locally")
    ls.add_argument("--json", action="store_true", help="machine-readable list of objects")
    ls.set_defaults(func=_list)
    fe = msub.add_parser(
        "fetch", help="download, verify and convert zoo models (default: the default zoo)"
    )
    fe.add_argument("names", nargs="*", metavar="NAME")
    fe.set_defaults(func=_fetch)
    ch = msub.add_parser("check", help="load models and report family, layers, hash, load time")
    ch.add_argument("names", nargs="*", metavar="NAME")
    ch.add_argument("--device", default="auto")
    ch.add_argument("--dtype", default="auto")
    ch.add_argument("--json", action="store_true")
    ch.add_argument(
        "--mechanics",
        action="store_true",
        help="also check patching's model-independent properties on the model and "
        "print its competence table (what a CI run on a new model relies on)",
    )
    ch.add_argument("--competence-n", type=int, default=10, metavar="N",
                    help="prompts per task in the --mechanics competence table")  # fmt: skip
    ch.set_defaults(func=_check)


def _rows() -> list[dict]:
    rows = []
    for spec in REGISTRY.values():
        if spec.source == "zoo":
            available = acquire.is_available(spec)
            path = str(acquire.converted_dir(spec)) if available else None
        elif spec.source == "organism":
            folder = shipped_dir(spec.name)
            path, available = str(folder), folder.is_dir()
        else:
            try:
                path, available = str(hf_cache_folder(spec.hf_id or spec.name)), True
            except ModelLoadError:
                path, available = None, False
        rows.append({
            "name": spec.name, "family": spec.family, "n_layers": spec.n_layers,
            "hidden": spec.hidden, "source": spec.source, "default": spec.default,
            "available": available, "path": path,
        })  # fmt: skip
    return rows


def _list(args: argparse.Namespace) -> int:
    rows = _rows()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'name':34} {'family':7} {'layers':>6} {'hidden':>6} {'source':8} available")
    for r in rows:
        mark = "yes" if r["available"] else "no"
        star = " (default)" if r["default"] else ""
        print(f"{r['name']:34} {r['family']:7} {r['n_layers']:>6} {r['hidden']:>6} "
              f"{r['source']:8} {mark}{star}")  # fmt: skip
    return 0


def _fetch(args: argparse.Namespace) -> int:
    names = args.names or list(DEFAULT_MODELS)
    specs = [get_spec(n) for n in names]  # validate every name before any download
    for spec in specs:
        start = time.perf_counter()
        path = acquire.fetch(spec, progress=lambda msg: print(msg, flush=True))
        print(f"{spec.name}: available at {path} ({time.perf_counter() - start:.1f} s)", flush=True)
    return 0


def _forward_seconds(lm, n_tokens: int, repeats: int = 3) -> float:
    """Median wall time of one forward pass over n_tokens (batch 1), after a warm-up."""
    import statistics

    import torch

    ids = torch.arange(100, 100 + n_tokens, device=lm.model.device)[None, :]
    times = []
    with torch.inference_mode():
        for i in range(repeats + 1):
            start = time.perf_counter()
            lm.model(input_ids=ids)
            if i:
                times.append(time.perf_counter() - start)
    return statistics.median(times)


def _user_file_digests(info) -> dict[str, str]:
    """{weights file: SHA-256} of a user's own model (a zoo model is hash-checked on fetch)."""
    from icl_core.models.acquire import sha256_file

    if info.source == "gguf-file":
        return {Path(info.path).name: info.weights_sha256}
    if info.source != "local-dir":
        return {}
    return {p.name: sha256_file(p) for p in sorted(Path(info.path).glob("*.safetensors"))}


def _mechanics(lm, competence_n: int, quiet: bool) -> dict:
    """Run `icl_core.mechanics` on a loaded model; print it unless `quiet` (JSON output)."""
    from icl_core.mechanics import run_mechanics
    from icl_core.papers.cheng2026.measurability import competence_table

    checks = run_mechanics(lm)
    rows, notes = competence_table(lm, competence_n)
    if not quiet:
        for c in checks:
            print(f"  mechanics {c.name:16} {'ok' if c.passed else 'FAILED':6} {c.detail}")
        print(f"  competence (clean 5-shot, {competence_n} prompts per task, Wilson 95%):")
        for r in rows:
            print(f"    {r['task']:20} {r['k']:>3}/{r['n']:<3} {100 * r['accuracy']:5.1f}% "
                  f"[{100 * r['ci_low']:.1f}, {100 * r['ci_high']:.1f}]")  # fmt: skip
        for note in notes:
            print(f"  {note}")
    return {"checks": [vars(c) for c in checks], "competence": rows, "measurable": notes}


def _check(args: argparse.Namespace) -> int:
    from icl_core.models.loading import load_model

    if args.competence_n < 1:
        raise InvalidChoiceError(f"--competence-n must be >= 1, got {args.competence_n}")
    reports, failed = [], False
    for name in args.names or list(DEFAULT_MODELS):
        lm = load_model(name, device=args.device, dtype=args.dtype)
        info = lm.info
        fwd = _forward_seconds(lm, 64)
        files = _user_file_digests(info)
        report = {**info.as_dict(), "forward_64_tokens_s": round(fwd, 3), "file_sha256": files}
        reports.append(report)
        if not args.json:
            print(f"{info.name}: {info.family}, {info.n_layers} layers x {info.hidden}, "
                  f"{info.dtype} on {info.device}, sha256 {info.weights_sha256[:16]}..., "
                  f"loaded in {info.load_seconds:.1f} s, forward of 64 tokens "
                  f"{fwd:.3f} s")  # fmt: skip
            for file, digest in files.items():
                print(f"  {file}: SHA-256 {digest} (compare with the publisher's)")
        if args.mechanics:
            report["mechanics"] = _mechanics(lm, args.competence_n, args.json)
            failed = failed or not all(c["passed"] for c in report["mechanics"]["checks"])
    if args.json:
        print(json.dumps(reports, indent=2))
    return 1 if failed else 0
