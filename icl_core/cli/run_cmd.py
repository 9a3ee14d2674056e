"""`icl-claims run`: run the claim tests through pytest, then write the report from the same
stored results (so the tests and the report cannot diverge). `icl-claims report`: the report
alone, from the store."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from icl_core.experiments.profiles import PROFILES, get_profile
from icl_core.experiments.protocols import CHOICES as PROTOCOL_CHOICES
from icl_core.experiments.protocols import expand_protocols


def add_selection(p: argparse.ArgumentParser) -> None:
    """The options that choose what a run covers and where its report goes."""
    p.add_argument("--models", nargs="+", metavar="NAME", help="default: the profile's models")
    p.add_argument("--profile", default="full", choices=list(PROFILES))
    p.add_argument("--protocol", default="rigorous", choices=PROTOCOL_CHOICES,
                   help="both: rigorous, paper and the paper protocol with each ingredient "
                        "switched alone (the ablations)")  # fmt: skip
    p.add_argument("--out", type=Path, help="report folder (default reports/<profile>-<time>)")
    p.add_argument("--device", default="auto")
    p.add_argument("--dtype", default="auto")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="check the claims (pytest) and write the report")
    add_selection(p)
    p.add_argument("--workers", type=int, default=1, help="pytest-xdist workers (1: serial)")
    p.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    p.set_defaults(func=_run)
    r = sub.add_parser("report", help="write the report from the results store (no pytest; "
                       "experiments missing from the store are computed)")  # fmt: skip
    add_selection(r)
    r.set_defaults(func=_report)


def _out(args: argparse.Namespace) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = args.out or Path("reports") / f"{args.profile}-{args.protocol}-{stamp}"
    out.mkdir(parents=True, exist_ok=True)
    return out


def _report(args: argparse.Namespace) -> int:
    from icl_core.report_run import build_report

    profile = get_profile(args.profile)
    models = args.models or list(profile.models)
    report = build_report(_out(args), models, profile, expand_protocols(args.protocol),
                          args.device, args.dtype, progress=_progress)  # fmt: skip
    print(f"icl-claims: report written to {report}")
    return 0


def _progress(message: str) -> None:
    print(f"[icl-claims] {message}", file=sys.stderr, flush=True)


def heaviest_first(models: list[str]) -> list[str]:
    """`models` ordered by a cost proxy (the registry's parameter count, descending;
    unregistered models last, in their order): xdist hands one model group to each worker in
    this order and the next to the first worker free, so the slowest model runs alone."""
    from icl_core.models.registry import REGISTRY

    def cost(name: str) -> int:
        spec = REGISTRY.get(name)
        return spec.parameters_m if spec else 0

    return sorted(models, key=cost, reverse=True)


def pytest_argv(args: argparse.Namespace, models: list[str], junit: Path) -> list[str]:
    argv = [str(Path(__file__).resolve().parents[2] / "claims"), "-p", "no:cacheprovider",
            "-rA", "--profile", args.profile, "--protocol", args.protocol, "--device",
            args.device, "--dtype", args.dtype, "--junitxml", str(junit)]  # fmt: skip
    for m in heaviest_first(models) if args.workers > 1 else models:
        argv += ["--model", m]
    if args.workers > 1:
        argv += ["-n", str(args.workers), "--dist", "loadgroup"]
    return argv + list(args.pytest_args)


def _run(args: argparse.Namespace) -> int:
    import pytest

    from icl_core.report_run import build_report

    profile = get_profile(args.profile)
    models = args.models or list(profile.models)
    out = _out(args)
    start = time.perf_counter()
    code = int(pytest.main(pytest_argv(args, models, out / "junit.xml")))
    elapsed = time.perf_counter() - start
    protocols = expand_protocols(args.protocol)
    extra = {"pytest_exit_code": code, "claims_wall_seconds": round(elapsed, 1)}
    report = build_report(out, models, profile, protocols, args.device, args.dtype, extra)
    print(f"icl-claims: report written to {report} (pytest exit code {code}, "
          f"{elapsed / 60:.1f} min)")  # fmt: skip
    return code
