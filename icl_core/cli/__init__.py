"""The `icl-claims` command line. Each subcommand lives in its own module and registers itself."""

from __future__ import annotations

import argparse
import os
import sys

from icl_core.errors import ICLClaimsError


def build_parser() -> argparse.ArgumentParser:
    from icl_core.cli import bench_cmd, inspect_cmd, models_cmd, organisms_cmd, run_cmd, store_cmd

    parser = argparse.ArgumentParser(prog="icl-claims", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (models_cmd, organisms_cmd, inspect_cmd, bench_cmd, run_cmd, store_cmd):
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; bad input exits with status 2 and a one-line message naming the problem.
    A reader that closes the output early (`icl-claims store info | head`) ends the command
    quietly with status 141 (128 + SIGPIPE), as a Unix tool does."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ICLClaimsError as exc:
        print(f"icl-claims: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no flush error at exit
        return 141


if __name__ == "__main__":
    sys.exit(main())
