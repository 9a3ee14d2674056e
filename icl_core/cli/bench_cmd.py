"""`icl-claims bench`: engine throughput and layer-sweep speed, naive vs optimized."""

from __future__ import annotations

import argparse
import json
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="measure plain vs patched generation and sweep speed")
    p.add_argument("--model", required=True)
    p.add_argument("--device", default="auto")
    p.add_argument("--dtype", default="auto")
    p.add_argument("--prompts", type=int, default=12, help="prompts for the throughput figures")
    p.add_argument("--trials", type=int, default=2, help="trials in the sweep comparison")
    p.add_argument("--agreement", type=int, default=0, metavar="TRIALS",
                   help="also run the reduced-dtype agreement study on TRIALS draws of each "
                        "headline sweep (float32 vs --reduced-dtype; 0: skip)")  # fmt: skip
    p.add_argument("--reduced-dtype", default="bfloat16", choices=["bfloat16", "float16"])
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_bench)


def _bench(args: argparse.Namespace) -> int:
    from icl_core.bench import run_bench
    from icl_core.models.loading import load_model

    lm = load_model(args.model, device=args.device, dtype=args.dtype)
    result = run_bench(lm, args.prompts, args.trials).as_dict()
    if args.agreement:
        from icl_core.papers.cheng2026.dtype_agreement import agreement_study

        del lm
        result["agreement"] = agreement_study(args.model, args.agreement, args.device,
                                              args.reduced_dtype).as_dict()  # fmt: skip
    if result["sweep_prompts"] == "untested":
        print(f"icl-claims: note: {args.model} answers no uppercase prompt of the sweep's pairs "
              "correctly: the sweep was timed on untested prompts (the same work; its outcomes "
              "say nothing about transfer)", file=sys.stderr)  # fmt: skip
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:26} {value}")
    return 0
