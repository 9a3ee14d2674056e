"""`icl-claims run`: run the claim tests through pytest, then write the report from the same
stored results (so the tests and the report cannot diverge). `icl-claims report`: the report
alone, from the store."""

from __future__ import annotations

import argparse
import signal
import time
from pathlib import Path

from icl_core.papers.cheng2026.profiles import PROFILES, RUN_PROFILE, get_profile
from icl_core.papers.cheng2026.protocols import CHOICES as PROTOCOL_CHOICES
from icl_core.papers.cheng2026.protocols import expand_protocols
from icl_core.progress import print_progress


def add_selection(p: argparse.ArgumentParser) -> None:
    """The options that choose what a run covers and where its report goes."""
    p.add_argument("--models", nargs="+", metavar="NAME", help="default: the profile's models")
    p.add_argument("--profile", default=RUN_PROFILE, choices=list(PROFILES))
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
    p.add_argument("--report-anyway", action="store_true",
                   help="write the report even if the tests were interrupted")  # fmt: skip
    p.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    p.set_defaults(func=_run)
    r = sub.add_parser("report", help="write the report from the results store (no pytest; "
                       "experiments missing from the store are computed)")  # fmt: skip
    add_selection(r)
    r.set_defaults(func=_report)


def check_arguments(args: argparse.Namespace, models: list[str]) -> None:
    """Every argument checked before anything is created or computed (ICLClaimsError, reported
    once by the CLI with exit 2)."""
    from icl_core.errors import InvalidChoiceError
    from icl_core.models.loading import check_model_argument, resolve_device, resolve_dtype

    resolve_device(args.device)
    resolve_dtype(args.dtype)
    if getattr(args, "workers", 1) < 1:
        raise InvalidChoiceError(f"--workers must be >= 1, got {args.workers}")
    for name in models:
        check_model_argument(name)


def _out(args: argparse.Namespace) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = args.out or Path("reports") / f"{args.profile}-{args.protocol}-{stamp}"
    out.mkdir(parents=True, exist_ok=True)
    return out


def _report(args: argparse.Namespace) -> int:
    from icl_core.papers.cheng2026.report_run import build_report

    profile = get_profile(args.profile)
    models = args.models or list(profile.models)
    check_arguments(args, models)
    report = build_report(_out(args), models, profile, expand_protocols(args.protocol),
                          args.device, args.dtype, progress=print_progress)  # fmt: skip
    print(f"icl-claims: report written to {report}")
    return 0


def parameters_m(name: str) -> int:
    """The registry's parameter count of `name` in millions (a cost proxy; 0 if unregistered)."""
    from icl_core.models.registry import REGISTRY

    spec = REGISTRY.get(name)
    return spec.parameters_m if spec else 0


def heaviest_first(models: list[str]) -> list[str]:
    """`models` ordered by a cost proxy (the registry's parameter count, descending;
    unregistered models last, in their order): xdist hands one model group to each worker in
    this order and the next to the first worker free, so the slowest model runs alone."""
    return sorted(models, key=parameters_m, reverse=True)


def claims_dir() -> Path:
    """The folder of the claim tests: the `claims` package (a checkout's or a wheel's)."""
    import claims

    return Path(claims.__file__).resolve().parent


def _plugin_args() -> list[str]:
    from fixtures import PLUGINS

    return [arg for name in PLUGINS for arg in ("-p", name)]


def pytest_argv(args: argparse.Namespace, models: list[str], junit: Path) -> list[str]:
    """pytest's arguments for the claims: the suite's plugins and snapshot settings are named
    here, not left to the checkout's conftest.py and pyproject.toml, which a wheel lacks."""
    argv = [str(claims_dir()), "-p", "no:cacheprovider", "-rA", "--profile", args.profile,
            "--protocol", args.protocol, "--device", args.device, "--dtype", args.dtype,
            "--junitxml", str(junit), *_plugin_args(), "--snapshot-warn-unused",
            "--snapshot-no-cleanup"]  # fmt: skip
    for m in heaviest_first(models) if args.workers > 1 else models:
        argv += ["--model", m]
    if args.workers > 1:
        argv += ["-n", str(args.workers), "--dist", "loadgroup"]
    return argv + list(args.pytest_args)


def precompute(args: argparse.Namespace, models: list[str], profile) -> dict[str, float | str]:
    """The rigorous experiments of `models`, computed into the store by `args.workers` processes
    balanced across models (`icl_core.papers.cheng2026.schedule`); the tests then read them."""
    from icl_core.models.dtype_policy import expected_speedup
    from icl_core.models.loading import resolve_device
    from icl_core.papers.cheng2026 import schedule

    device = resolve_device(args.device)

    def cost(name: str) -> float:
        speedup = expected_speedup(name, device) if args.dtype == "auto" else 1.0
        return parameters_m(name) / speedup

    jobs = schedule.plan(models, profile, cost)
    start = time.perf_counter()
    done = schedule.run_jobs(jobs, profile, args.device, args.dtype, args.workers, print_progress)
    print_progress(f"schedule: {len(jobs)} jobs in {(time.perf_counter() - start) / 60:.1f} min")
    return done


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _interrupted() -> int:
    """After Ctrl-C or SIGTERM: no report (it would compute what the store lacks); exit 130."""
    print_progress(
        "interrupted: every finished unit is stored; run the same command again to "
        "resume (add --report-anyway to write a report from an interrupted run)"
    )
    return 130


def _run(args: argparse.Namespace) -> int:
    import pytest

    from icl_core.papers.cheng2026.report_run import build_report

    profile = get_profile(args.profile)
    models = args.models or list(profile.models)
    protocols = expand_protocols(args.protocol)
    check_arguments(args, models)
    out = _out(args)
    start = time.perf_counter()
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        parallel = args.workers > 1 and "rigorous" in protocols
        jobs = precompute(args, models, profile) if parallel else {}
    except KeyboardInterrupt:
        return _interrupted()
    code = int(pytest.main(pytest_argv(args, models, out / "junit.xml")))
    elapsed = time.perf_counter() - start
    if code == pytest.ExitCode.INTERRUPTED and not args.report_anyway:
        return _interrupted()
    extra = {"pytest_exit_code": code, "claims_wall_seconds": round(elapsed, 1),
             "precompute_seconds": jobs}  # fmt: skip
    report = build_report(out, models, profile, protocols, args.device, args.dtype, extra)
    print(f"icl-claims: report written to {report} (pytest exit code {code}, "
          f"{elapsed / 60:.1f} min)")  # fmt: skip
    return code
