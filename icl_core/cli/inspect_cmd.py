"""`icl-claims inspect-prompt`: show a prompt token by token with roles and position sets."""

from __future__ import annotations

import argparse
import json

from icl_core.cli.inspect_records import format_record, layout_record
from icl_core.context_window import context_limit
from icl_core.models.loading import load_config, load_tokenizer
from icl_core.papers.cheng2026.protocol import paper_example
from icl_core.prompts import build_layout, render
from icl_core.tasks import ICLExample, sample_example, sample_pair
from icl_core.tasks.sampling import shared_input_capacity

PROTOCOLS = ("rigorous", "paper")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("inspect-prompt", help="print a prompt's tokens, roles and position sets")
    p.add_argument("--model", required=True, help="zoo name, HF id, folder or .gguf (tokenizer)")
    p.add_argument("--task", required=True, help="target task")
    p.add_argument("--source-task", help="also show the paired source prompt of this task")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--k", type=int, default=5, help="demonstrations (rigorous protocol)")
    p.add_argument("--template", default="paper")
    p.add_argument("--protocol", choices=PROTOCOLS, default="rigorous")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_inspect)


def _examples(args: argparse.Namespace) -> list[tuple[str, ICLExample]]:
    if args.protocol == "paper":  # fixed demos; query = test input number `seed`
        out = [("target", paper_example(args.task, args.seed))]
        if args.source_task:
            out.append(("source", paper_example(args.source_task, args.seed)))
        return out
    if not args.source_task:
        return [("target", sample_example(args.task, k=args.k, seed=args.seed))]
    demos, queries = shared_input_capacity(args.source_task, args.task)
    shared = demos >= args.k and queries >= 1
    pair = sample_pair(args.source_task, args.task, k=args.k, seed=args.seed, shared_inputs=shared)
    return [("target", pair.target), ("source", pair.source)]


def _inspect(args: argparse.Namespace) -> int:
    tokenizer = load_tokenizer(args.model)
    context = context_limit(load_config(args.model))
    records = [
        layout_record(
            build_layout(render(ex, args.template), tokenizer),
            tokenizer,
            label,
            paper=args.protocol == "paper",
            context=context,
        )  # fmt: skip
        for label, ex in _examples(args)
    ]
    if args.json:
        print(json.dumps({"model": args.model, "protocol": args.protocol, "prompts": records}))
    else:
        print("\n\n".join(format_record(r) for r in records))
    return 0
