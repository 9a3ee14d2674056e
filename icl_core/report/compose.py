"""Assemble the report document (a list of blocks) from cells, verdicts, figures and tables.

The same blocks render to report.md and report.html, so both carry the same content.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

from icl_core.records import Cell, TrialRecord, Verdict
from icl_core.report.document import Block, Bullets, Heading, Image, Paragraph
from icl_core.report.plotting import FigureInfo
from icl_core.report.sections import Section
from icl_core.report.tables import (
    exclusion_rows,
    experiments_of,
    fmt_value,
    key_cell_table,
    key_cells,
    make_table,
    paper_vs_measured,
    verdict_table,
)

KEY_ROWS = 40  # key cells shown per experiment
EXTRA_ROWS = 60  # rows of an extra table shown in the report

SUCCESS_WORDS = {
    "tracing": "accuracy (outcome correct for the target task) under noise",
}
DEFAULT_SUCCESS = "transfer rate (outcome correct for the source task)"


def _env_value(value: object) -> str:
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
    return fmt_value(value)


def _join(items: Sequence[str]) -> str:
    return ", ".join(items) if items else "none"


def summary_blocks(
    records: Sequence[TrialRecord],
    cells: Sequence[Cell],
    verdicts: Sequence[Verdict],
    environment: dict,
    n_layers: dict[str, int],
) -> list[Block]:
    """Run summary: models, protocols, profile, seeds, experiments and counts."""
    models: dict[str, str] = {}
    for item in (*records, *cells):
        models.setdefault(item.model, item.family)
    model_text = [
        f"{m} ({fam}, {n_layers[m]} layers)" if m in n_layers else f"{m} ({fam})"
        for m, fam in models.items()
    ]
    protocols = list(dict.fromkeys(x.protocol for x in (*records, *cells)))
    seeds = environment.get("seeds", environment.get("seed"))
    if seeds is None and records:
        seeds = sorted({r.seed for r in records})
    n_excluded = sum(1 for r in records if r.excluded)
    statuses = Counter(v.status for v in verdicts)
    items = [
        f"Models: {_join(model_text)}",
        f"Protocols: {_join(protocols)}",
        f"Profile: {_env_value(environment.get('profile', 'not stated'))}",
        f"Seeds: {_env_value(seeds) if seeds is not None else 'not stated'}",
        f"Experiments: {_join(experiments_of(cells))}",
        f"Trials: {len(records)} ({n_excluded} marked excluded); cells: {len(cells)}",
        f"Verdicts: {len(verdicts)} ("
        + ", ".join(f"{s} {statuses[s]}" for s in sorted(statuses))
        + ")",
    ]
    evidence = environment.get("evidence")
    if evidence:
        items.append(
            f"Evidence: {evidence['units']} stored units; their recorded compute time "
            f"{evidence['compute_seconds'] / 60:.1f} worker-min ({evidence['timed_units']} of "
            f"{evidence['units']} timed; per model and experiment: `tables/evidence.csv`)"
        )
    if "claims_wall_seconds" in environment:
        items.append(f"This run's wall time, precompute and pytest (not this report's build): "
                     f"{environment['claims_wall_seconds'] / 60:.1f} min (units found in the "
                     "store are read, not computed)")  # fmt: skip
    if "device" in environment:
        items.insert(3, f"Device: {_env_value(environment['device'])}")
    blocks: list[Block] = [Heading(2, "Run summary"), Bullets(tuple(items))]
    if any(c.source_clean_only for c in cells):
        blocks.append(
            Paragraph(
                "Rates count only trials whose clean source prompt was answered correctly "
                "(excluded otherwise as `source_clean_wrong`): transfer cannot exceed the "
                "source's own competence (SPEC 5.4)."
            )
        )
    return blocks


def verdict_blocks(verdicts: Sequence[Verdict]) -> list[Block]:
    """The verdict table and the paper-vs-measured table."""
    blocks: list[Block] = [Heading(2, "Verdicts")]
    if not verdicts:
        return [*blocks, Paragraph("No verdicts were recorded in this run.")]
    blocks += [
        Paragraph(
            "Status of each claim per model and protocol (holds / refuted / inconclusive); "
            "C4, a claim about families, shows its family's verdict on each model."
        ),
        verdict_table(verdicts),
        Heading(2, "Paper vs measured"),
        paper_vs_measured(verdicts),
    ]
    return blocks


def experiment_blocks(cells: Sequence[Cell], figures: Sequence[FigureInfo]) -> list[Block]:
    """One section per experiment: its key cells (best layer per group) and its figures."""
    blocks: list[Block] = []
    for exp in experiments_of(cells):
        chosen, n_groups, low = key_cells(cells, exp, KEY_ROWS)
        what = SUCCESS_WORDS.get(exp, DEFAULT_SUCCESS)
        pick = "lowest" if low else "highest"
        text = (
            f"Rate = {what}, with its Wilson 95% interval. One row per (model, protocol, pair, "
            f"position set, condition): the layer with the {pick} rate."
        )
        if n_groups > len(chosen):
            text += f" Showing the {len(chosen)} groups (of {n_groups}) with the {pick} rates."
        text += " The full table (every layer) is in `results.csv`."
        blocks += [Heading(2, f"Experiment: {exp}"), Paragraph(text), key_cell_table(chosen)]
        blocks += [Image(f.path, f.caption) for f in figures if f.experiment == exp]
    return blocks


def figure_blocks(figures: Sequence[FigureInfo]) -> list[Block]:
    """The list of figures produced, and the figures not shown in an experiment section."""
    blocks: list[Block] = [Heading(2, "Figures")]
    if not figures:
        return [*blocks, Paragraph("No figures were produced (no data for any figure).")]
    blocks.append(Bullets(tuple(f"`{f.path}`: {f.caption}" for f in figures)))
    blocks += [Image(f.path, f.caption) for f in figures if f.experiment is None]
    return blocks


def extra_table_blocks(
    extra_tables: dict[str, list[dict]], csv_paths: dict[str, str]
) -> list[Block]:
    """Each extra table under its name as heading (first EXTRA_ROWS rows)."""
    blocks: list[Block] = []
    for name, rows in extra_tables.items():
        blocks.append(Heading(2, name))
        if not rows:
            blocks.append(Paragraph("(no rows)"))
            continue
        shown = rows[:EXTRA_ROWS]
        blocks.append(make_table(shown))
        if len(rows) > len(shown):
            where = f" (all rows: `{csv_paths[name]}`)" if name in csv_paths else ""
            blocks.append(Paragraph(f"Showing {len(shown)} of {len(rows)} rows{where}."))
    return blocks


def exclusion_blocks(cells: Sequence[Cell]) -> list[Block]:
    """Excluded trials by reason, summed per experiment, model and protocol."""
    blocks: list[Block] = [Heading(2, "Excluded trials")]
    rows = exclusion_rows(cells)
    if not rows:
        return [*blocks, Paragraph("No trial was excluded.")]
    return [
        *blocks,
        Paragraph("Valid and excluded trial counts by reason, summed over the cells."),
        make_table(rows),
    ]


def leakage_blocks(cells: Sequence[Cell]) -> list[Block]:
    """Cells where the patched output was the source's answer to the source's own query
    (`source_copy`: answer leakage, counted as not-transfer), query and demo positions alike."""
    blocks: list[Block] = [Heading(2, "Answer leakage (source_copy)")]
    rows = [{"model": c.model, "protocol": c.protocol, "experiment": c.experiment,
             "pair": c.pair, "layer": c.layer, "position set": c.position_set,
             "source_copy": f"{c.source_copies}/{c.n}"}
            for c in cells if c.source_copies]  # fmt: skip
    if not rows:
        return [*blocks, Paragraph("No valid trial output the source's own answer.")]
    return [
        *blocks,
        Paragraph(
            "Valid trials whose output was the source task's answer to the source's own "
            "query (counted as not-transfer in every rate), per cell."
        ),  # fmt: skip
        make_table(rows),
    ]


def environment_blocks(environment: dict) -> list[Block]:
    """The environment as a bullet list (also in `environment.json`)."""
    blocks: list[Block] = [Heading(2, "Environment")]
    if not environment:
        return [*blocks, Paragraph("No environment was recorded.")]
    items = tuple(f"{k}: {_env_value(v)}" for k, v in environment.items())
    return [*blocks, Bullets(items), Paragraph("Also in `environment.json`.")]


def compose_report(
    title: str,
    records: Sequence[TrialRecord],
    cells: Sequence[Cell],
    verdicts: Sequence[Verdict],
    environment: dict,
    figures: Sequence[FigureInfo],
    extra_tables: dict[str, list[dict]],
    n_layers: dict[str, int],
    extra_csv: dict[str, str] | None = None,
    sections: Sequence[Section] = (),
) -> list[Block]:
    """The whole report as blocks, in reading order (`sections`' after the verdict table)."""
    files = (
        "Files: `results.csv` / `results.json` (one row per cell), `trials.jsonl` (one line "
        "per trial), `verdicts.json`, `environment.json`, `figures/`."
    )
    return [
        Heading(1, title),
        Paragraph(files),
        *summary_blocks(records, cells, verdicts, environment, n_layers),
        *verdict_blocks(verdicts),
        *(b for s in sections for b in s.blocks(extra_tables, verdicts, figures)),
        *experiment_blocks(cells, figures),
        *figure_blocks(figures),
        *extra_table_blocks(extra_tables, extra_csv or {}),
        *exclusion_blocks(cells),
        *leakage_blocks(cells),
        *environment_blocks(environment),
    ]
