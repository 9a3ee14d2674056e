"""`write_report`: write a run's report folder (data files, figures, report.md, report.html)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from icl_core.records import Cell, TrialRecord, Verdict
from icl_core.report.compose import compose_report
from icl_core.report.export import (
    write_environment,
    write_extra_tables,
    write_results,
    write_text,
    write_trials,
    write_verdicts,
)
from icl_core.report.figures import infer_n_layers, make_figures
from icl_core.report.html import render_html
from icl_core.report.markdown import render_markdown
from icl_core.report.sections import Section


def write_report(
    out_dir: Path,
    records: Sequence[TrialRecord],
    cells: Sequence[Cell],
    verdicts: Sequence[Verdict],
    environment: dict,
    extra_tables: dict[str, list[dict]] | None = None,
    title: str = "icl-claims report",
    sections: Sequence[Section] = (),
) -> Path:
    """Write the report folder `out_dir` (created if missing) and return the path of report.md.

    Writes results.csv/json (one row per cell), trials.jsonl (one line per record, input
    order), verdicts.json ({"verdicts": [...], "table": {claim: {"<model> (<protocol>)":
    status}}}), environment.json (as given), figures/*.png (those whose data is present),
    tables/<name>.csv (one per extra table), report.md and report.html (same content);
    `sections`: the caller's own (`report.sections`), after the verdict table.
    Deterministic: the same input gives byte-identical files. Existing files of the same names
    are overwritten; nothing else in `out_dir` is touched.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    extra = dict(extra_tables or {})
    n_layers = {r.model: r.n_layers for r in records}
    for model, n in infer_n_layers(cells).items():
        n_layers.setdefault(model, n)

    write_results(out_dir, cells)
    write_trials(out_dir, records)
    write_verdicts(out_dir, verdicts)
    write_environment(out_dir, environment)
    extra_csv = {
        name: path.relative_to(out_dir).as_posix()
        for name, path in write_extra_tables(out_dir, extra).items()
    }
    figures = make_figures(out_dir, cells, n_layers, extra, sections)

    blocks = compose_report(title, records, cells, verdicts, environment, figures, extra,
                            n_layers, extra_csv, sections)  # fmt: skip
    md_path = write_text(out_dir / "report.md", render_markdown(blocks))
    write_text(out_dir / "report.html", render_html(blocks, title))
    return md_path
