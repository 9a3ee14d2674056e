"""Token-by-token views of prompts for `icl-claims inspect-prompt`."""

from __future__ import annotations

from icl_core.papers.cheng2026.protocol.positions import PAPER_SETS, paper_position_diff
from icl_core.prompts.layout import Layout


def layout_record(
    layout: Layout, tokenizer, label: str, paper: bool = False, context: int | None = None
) -> dict:
    """JSON-ready view: text, tokens (index, token_id, text, role, start, end), position_sets;
    with `paper`, also the paper algorithm's sets and its misplaced count per demo; with the
    model's `context` (tokens), a `note` when the prompt does not fit it."""
    tokens = [
        {
            "index": i,
            "token_id": tid,
            "text": tokenizer.decode([tid]),
            "role": role,
            "start": s,
            "end": e,
        }  # fmt: skip
        for i, (tid, role, (s, e)) in enumerate(
            zip(layout.input_ids, layout.roles, layout.offsets, strict=True)
        )
    ]
    record = {
        "label": label,
        "task": layout.prompt.example.task,
        "template": layout.prompt.template,
        "text": layout.prompt.text,
        "tokens": tokens,
        "position_sets": {k: list(v) for k, v in layout.position_sets().items()},
    }
    if context is not None and len(layout) >= context:
        record["note"] = (f"{len(layout)} tokens, no room within the model's context of "
                          f"{context} for an answer: trials on such a prompt are excluded as "
                          "too_long")  # fmt: skip
    if paper:
        diff = paper_position_diff(layout, tokenizer)
        record["paper_positions"] = {k: list(diff.positions.sets[k]) for k in PAPER_SETS}
        record["paper_positions"]["last_demo_token"] = [diff.positions.last_demo_token]
        record["paper_misplaced_per_demo"] = {str(d): n for d, n in diff.misplaced_per_demo.items()}
        record["paper_misplaced"] = diff.misplaced
        record["paper_attributed"] = diff.total
    return record


_MARKS = (("input_only", "I"), ("output_only", "O"), ("all_demo", "D"), ("query", "Q"))


def format_record(record: dict) -> str:
    """Human-readable table: one row per token with its role, set marks and (paper) the paper
    set it lands in."""
    sets = {k: set(v) for k, v in record["position_sets"].items()}
    paper = {k: set(v) for k, v in record.get("paper_positions", {}).items()}
    head = f"== {record['label']} prompt: task {record['task']}, template {record['template']}"
    lines = [head, f"{'idx':>4} {'id':>7}  {'token':18} {'role':22} sets  paper"]
    for t in record["tokens"]:
        marks = "".join(m if t["index"] in sets[name] else "." for name, m in _MARKS)
        landed = ",".join(k for k, v in paper.items() if t["index"] in v and k != "all_demo")
        lines.append(f"{t['index']:>4} {t['token_id']:>7}  {t['text']!r:18} {t['role']:22} "
                     f"{marks}  {landed}")  # fmt: skip
    if "paper_misplaced" in record:
        bad, total = record["paper_misplaced"], record["paper_attributed"]
        per_demo = record["paper_misplaced_per_demo"]
        lines.append(f"paper algorithm: {bad} of {total} positions misplaced; per demo {per_demo}")
    lines.append("sets: I=input_only O=output_only D=all_demo Q=query")
    if "note" in record:
        lines.append(f"note: {record['note']}")
    return "\n".join(lines)
