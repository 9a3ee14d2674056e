"""Tests of icl_core.report: a synthetic run written to a report folder (no models needed)."""

from __future__ import annotations

import csv
import json
import math
import random
import re
from pathlib import Path

import pytest

from icl_core.records import Cell, TrialRecord, Verdict, aggregate
from icl_core.report import format_table, write_report
from icl_core.report.document import Bullets, Heading, Image, Paragraph, Table
from icl_core.report.html import render_html
from icl_core.report.markdown import render_markdown
from icl_core.report.tables import key_cells, verdict_matrix, verdict_table

pytestmark = pytest.mark.slow  # the module's report (figures included) takes about 10 s to write

MODELS = (("m-llama", "llama", 4), ("org/m-qwen", "qwen", 6))
PROTOCOLS = ("rigorous", "paper")
ODD_TASK = "up<per"  # must come out escaped in HTML
EXPERIMENTS = ("multi_sweep", "single_sweep", "tracing", "matrix")
REQUIRED = (
    "model", "family", "protocol", "experiment", "pair", "layer", "depth", "position_set",
    "condition", "n", "k", "rate", "ci_low", "ci_high",
)  # fmt: skip


def _trials(rng: random.Random, base: dict, p: float, n: int = 4, vocab=("transfer", "preserve")):
    """n trials of one cell: success with probability p; one 'ambiguous' exclusion."""
    out = [TrialRecord(**base, seed=i, outcome=vocab[rng.random() >= p]) for i in range(n)]
    out.append(TrialRecord(**base, seed=n, outcome=None, excluded="ambiguous"))
    return out


def synthetic_records() -> list[TrialRecord]:
    """2 models x 2 protocols x 4 experiments over a few layers, with one all-excluded
    (n = 0) cell in single_sweep and one in matrix."""
    rng = random.Random(0)
    records: list[TrialRecord] = []
    for model, family, n_layers in MODELS:
        for protocol in PROTOCOLS:

            def base(exp, src, tgt, layer, pos, cond="", _m=model, _f=family, _n=n_layers,
                     _p=protocol):  # fmt: skip
                return dict(model=_m, family=_f, n_layers=_n, protocol=_p, experiment=exp,
                            source_task=src, target_task=tgt, layer=layer, position_set=pos,
                            condition=cond, source_clean_correct=True)  # fmt: skip

            for layer in range(n_layers):
                peak = 1.0 - abs(layer - 1) / n_layers
                for pos, p in (("all_demo", peak), ("output_only", peak * 0.9),
                               ("input_only", 0.0)):  # fmt: skip
                    for src in (ODD_TASK, "first_letter"):
                        b = base("multi_sweep", src, "repeat_word", layer, pos)
                        records += _trials(rng, b, p)
                for pos in ("last_demo", "query"):
                    b = base("single_sweep", ODD_TASK, "repeat_word", layer, pos)
                    records += _trials(rng, b, 0.0)
                b = base("single_sweep", ODD_TASK, "repeat_word", layer, "separator")
                if layer == 1:  # every trial excluded: n = 0, NaN rate
                    records += [TrialRecord(**b, seed=9, outcome=None, excluded="clean_wrong")]
                else:
                    records += _trials(rng, b, 0.0)
                for pos, p in (("query", 0.2), ("demo1_output", 0.95)):
                    b = base("tracing", "noise", "antonym", layer, pos, "sigma=3.0std")
                    records += _trials(rng, b, p, vocab=("correct", "incorrect"))
            b = base("tracing", "noise", "antonym", 0, "clean")
            records += _trials(rng, b, 0.9, vocab=("correct", "incorrect"))
            tasks = (ODD_TASK, "repeat_word", "antonym")
            for src in tasks:
                for tgt in tasks:
                    if src == tgt:
                        continue
                    b = base("matrix", src, tgt, 1, "all_demo")
                    if (src, tgt) == ("antonym", ODD_TASK):
                        records.append(TrialRecord(**b, seed=0, outcome=None, excluded="ambiguous"))
                    else:
                        records += _trials(rng, b, 0.5)
    return records


def synthetic_verdicts() -> list[Verdict]:
    out = []
    for model, _, _ in MODELS:
        for protocol in PROTOCOLS:
            out.append(Verdict("C1", model, protocol, "holds", "0/40 = 0% [0, 8.8]", "0% [0, 7%]"))
            out.append(Verdict("C10", model, protocol, "inconclusive", "2/6 pairs", "7 of 56"))
            status = "refuted" if protocol == "rigorous" else "holds"
            out.append(Verdict("C2", model, protocol, status, "50% [20, 80]", "96% [87, 99]"))
    return out


EXTRA = {
    "probes": [
        {"model": m, "protocol": p, "layer": layer, "position": pos, "probe": "centroid",
         "accuracy": 0.5 + 0.1 * layer if pos == "last_demo" else float("nan"),
         "ci_low": 0.4, "ci_high": min(1.0, 0.7 + 0.1 * layer)}
        for m, _, n in MODELS for p in PROTOCOLS for layer in range(n)
        for pos in ("last_demo", "query")
    ],
    "best_layers": [
        {"model": m, "protocol": p, "best_layer": 1, "n_layers": n, "depth": 1 / n,
         "band_layer": 2, "c3_status": "holds"}
        for m, _, n in MODELS for p in PROTOCOLS
    ],
}  # fmt: skip

ENV = {"profile": "ci", "seeds": [0, 1], "device": "cpu", "versions": {"torch": "x"}}


@pytest.fixture(scope="module")
def run() -> tuple[list[TrialRecord], list[Cell], list[Verdict]]:
    records = synthetic_records()
    return records, aggregate(records), synthetic_verdicts()


@pytest.fixture(scope="module")
def report_dir(run, tmp_path_factory) -> Path:
    records, cells, verdicts = run
    out = tmp_path_factory.mktemp("report") / "run1"
    md = write_report(out, records, cells, verdicts, ENV, EXTRA, title="test <report>")
    assert md == out / "report.md"
    return out


def test_synthetic_run_has_nan_cells(run):
    _, cells, _ = run
    empty = [c for c in cells if c.n == 0]
    assert {c.experiment for c in empty} == {"single_sweep", "matrix"}
    assert all(math.isnan(c.rate) for c in empty)


def test_every_file_exists(report_dir):
    for name in ("results.csv", "results.json", "trials.jsonl", "verdicts.json",
                 "environment.json", "report.md", "report.html"):  # fmt: skip
        assert (report_dir / name).is_file(), name
    pngs = sorted(p.name for p in (report_dir / "figures").glob("*.png"))
    kinds = {n.split("_")[0] for n in pngs}
    assert kinds == {"transfer", "disruption", "matrix", "probes", "best"}
    # 2 models x 2 protocols x (2 sweeps + tracing + matrix + probes) + best layers
    assert len(pngs) == 2 * 2 * 5 + 1
    assert all((report_dir / "figures" / n).stat().st_size < 300_000 for n in pngs)


def test_results_csv_and_json(report_dir, run):
    _, cells, _ = run
    with open(report_dir / "results.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(cells)
    assert set(REQUIRED) <= set(rows[0])
    assert {"excluded_ambiguous", "excluded_clean_wrong"} <= set(rows[0])
    assert all(r["excluded_clean_wrong"] in ("0", "1") for r in rows)
    empty = [r for r in rows if r["n"] == "0"]
    assert empty and all(r["rate"] == "" for r in empty)
    data = json.loads((report_dir / "results.json").read_text(encoding="utf-8"))
    assert len(data) == len(cells) and set(data[0]) == set(rows[0])
    assert any(d["rate"] is None for d in data)


def test_trials_jsonl(report_dir, run):
    records, _, _ = run
    lines = (report_dir / "trials.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(records)
    assert TrialRecord.from_dict(json.loads(lines[0])) == records[0]
    assert TrialRecord.from_dict(json.loads(lines[-1])) == records[-1]


def test_verdicts_and_environment_json(report_dir, run):
    _, _, verdicts = run
    doc = json.loads((report_dir / "verdicts.json").read_text(encoding="utf-8"))
    assert len(doc["verdicts"]) == len(verdicts)
    assert list(doc["table"]) == ["C1", "C2", "C10"]
    assert doc["table"]["C2"]["m-llama (rigorous)"] == "refuted"
    assert doc["table"]["C2"]["org/m-qwen (paper)"] == "holds"
    env = json.loads((report_dir / "environment.json").read_text(encoding="utf-8"))
    assert env == ENV


def test_report_md_content(report_dir):
    md = (report_dir / "report.md").read_text(encoding="utf-8")
    assert md.startswith("# test \\<report>\n")  # '<' escaped: no raw HTML in Markdown
    assert "| model (protocol) | C1 | C2 | C10 |" in md
    assert "| m-llama (rigorous) | holds | refuted | inconclusive |" in md
    assert "| org/m-qwen (paper) | holds | holds | inconclusive |" in md
    assert "| claim | model | protocol | paper's figure | our figure | status |" in md
    assert "96% [87, 99]" in md
    for exp in EXPERIMENTS:
        assert f"## Experiment: {exp}" in md
    for section in ("## Run summary", "## Figures", "## probes", "## best_layers",
                    "## Excluded trials", "## Environment"):  # fmt: skip
        assert section in md
    assert "results.csv" in md and "- profile: ci" in md and "clean_wrong" in md
    links = re.findall(r"\]\((figures/[^)]+\.png)\)", md)
    assert len(links) == 21
    assert all((report_dir / link).is_file() for link in links)
    # key cells: the best layer of the headline group (layer 1 has the peak probability)
    assert "| multi_sweep | m-llama | rigorous | up\\<per->repeat_word | 1 |" in md


def test_report_html(report_dir):
    page = (report_dir / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<table>" in page and page.count("<table>") == page.count("</table>")
    srcs = re.findall(r'<img src="(figures/[^"]+)"', page)
    assert len(srcs) == 21 and all((report_dir / s).is_file() for s in srcs)
    assert "up&lt;per" in page and "up<per" not in page
    assert "<title>test &lt;report&gt;</title>" in page


def test_deterministic(run, report_dir, tmp_path):
    records, cells, verdicts = run
    again = tmp_path / "run2"
    write_report(again, records, cells, verdicts, ENV, EXTRA, title="test <report>")
    names = ["results.csv", "results.json", "trials.jsonl", "verdicts.json", "report.md",
             "report.html"]  # fmt: skip
    names += [f"figures/{p.name}" for p in (report_dir / "figures").glob("*.png")]
    for name in names:
        assert (again / name).read_bytes() == (report_dir / name).read_bytes(), name


def test_nan_only_inputs(tmp_path):
    """Cells that are all n = 0, no verdicts, no environment: still a complete report."""
    b = dict(model="m", family="llama", n_layers=3, protocol="rigorous", source_task="a",
             target_task="b", seed=0, outcome=None, excluded="ambiguous")  # fmt: skip
    records = [
        TrialRecord(**b, experiment=exp, layer=layer, position_set=pos)
        for exp in EXPERIMENTS for layer in range(3) for pos in ("all_demo", "clean")
    ]  # fmt: skip
    cells = aggregate(records)
    md = write_report(tmp_path, records, cells, [], {}, {"probes": [], "notes": []}).read_text()
    assert "No verdicts" in md and "ambiguous" in md
    assert len(list((tmp_path / "figures").glob("*.png"))) == 3 + 6  # 6 matrix groups
    assert (tmp_path / "report.html").is_file()


def test_empty_run(tmp_path):
    md = write_report(tmp_path / "new" / "dir", [], [], [], {}).read_text()
    assert "No figures were produced" in md
    assert (tmp_path / "new" / "dir" / "results.csv").read_text().startswith("model,family,")


def test_format_table():
    text = format_table([{"a": 1, "b": 0.123456}, {"a": "x|y", "c": float("nan")}])
    assert text.splitlines() == [
        "| a | b | c |",
        "|---|---|---|",
        "| 1 | 0.1235 |  |",
        "| x\\|y |  | – |",
    ]
    assert format_table([{"a": 1, "b": 2}], ["b"]) == "| b |\n|---|\n| 2 |"
    assert format_table([]) == ""


def test_key_cells_prefers_best_layer(run):
    _, cells, _ = run
    chosen, n_groups, low = key_cells(cells, "multi_sweep", limit=5)
    assert len(chosen) == 5 and n_groups == 2 * 2 * 3 * 2 and not low
    for c in chosen:
        group = [
            x
            for x in cells
            if (x.model, x.protocol, x.pair, x.position_set)
            == (c.model, c.protocol, c.pair, c.position_set)
            and x.experiment == "multi_sweep"
        ]
        assert c.rate == max(x.rate for x in group)
    others = [
        x.rate for x in key_cells(cells, "multi_sweep", limit=100)[0] if x not in chosen and x.n > 0
    ]
    assert all(c.rate >= r for c in chosen for r in others)
    chosen, _, low = key_cells(cells, "tracing")
    assert low and all(c.n > 0 for c in chosen)


def test_verdict_matrix_combines_repeats():
    vs = [Verdict("C1", "m", "p", "holds", ""), Verdict("C1", "m", "p", "refuted", "")]
    assert verdict_matrix(vs) == {"C1": {"m (p)": "mixed (1 holds, 1 refuted)"}}


def test_verdict_table_puts_family_verdicts_on_their_models_rows():
    vs = [
        Verdict("C2", "a", "p", "holds", ""),
        Verdict("C2", "b", "p", "refuted", ""),
        Verdict("C4", "family:llama", "p", "holds", "", details={"models": ["a"]}),
        Verdict("C4", "family:qwen", "p", "refuted", "", details={"models": ["b"]}),
        Verdict("C4", "family:gemma", "p", "inconclusive", "no model", details={"models": []}),
    ]
    table = verdict_table(vs)
    assert table.columns == ("model (protocol)", "C2", "C4")
    assert table.rows == (("a (p)", "holds", "holds"), ("b (p)", "refuted", "refuted"),
                          ("family:gemma (p)", "", "inconclusive"))  # fmt: skip


def test_renderers_escape():
    blocks = [
        Heading(2, "a <b>"), Paragraph("x & `y<z`"), Table(("c|d",), (("<e>",),)),
        Bullets(("<f>",)), Image("figures/a.png", 'cap "q"'),
    ]  # fmt: skip
    page = render_html(blocks, "t")
    assert "<h2>a &lt;b&gt;</h2>" in page and "<code>y&lt;z</code>" in page
    assert "<td>&lt;e&gt;</td>" in page and "<li>&lt;f&gt;</li>" in page
    assert '<img src="figures/a.png" alt="cap &quot;q&quot;">' in page
    md = render_markdown(blocks)
    assert "| c\\|d |" in md and '![cap "q"](figures/a.png)' in md
    assert "## a \\<b>" in md and "x & `y<z`" in md and "| \\<e> |" in md and "- \\<f>" in md


def test_source_copies_are_counted_per_cell_and_listed_in_the_report():
    from icl_core.report.compose import leakage_blocks

    base = dict(model="m", family="llama", n_layers=4, protocol="rigorous",
                experiment="single_sweep", source_task="a", target_task="b", layer=3,
                position_set="query_last")  # fmt: skip
    outcomes = ("source_copy", "source_copy", "transfer", "preserve")
    rows = [TrialRecord(**base, seed=i, outcome=o) for i, o in enumerate(outcomes)]
    rows.append(TrialRecord(**base, seed=9, outcome="source_copy", excluded="ambiguous"))
    (cell,) = aggregate(rows)
    assert (cell.k, cell.n, cell.source_copies) == (1, 4, 2)  # excluded trials not counted
    table = leakage_blocks([cell])[-1]
    assert isinstance(table, Table) and table.rows[0][-1] == "2/4"
    quiet = aggregate([r for r in rows if r.outcome != "source_copy"])
    assert "No valid trial" in leakage_blocks(quiet)[-1].text


def test_a_callers_section_comes_after_the_verdict_table(tmp_path):
    """`sections`: the caller's figures are drawn and its blocks placed after the verdicts."""
    from icl_core.report.document import Heading, Paragraph
    from icl_core.report.sections import Section

    drawn = []
    section = Section(
        figures=lambda w, extra: drawn.append(sorted(extra)),
        blocks=lambda extra, verdicts, figures: [Heading(2, "My section"), Paragraph("mine.")],
    )
    md = write_report(tmp_path, [], [], [], {}, {"t": []}, sections=(section,)).read_text()
    assert drawn == [["t"]]
    assert md.index("## My section") > md.index("No verdicts")


def test_paper_vs_measured_names_how_far_an_inconclusive_verdict_is():
    """The projection column: further counted trials, or C7's tasks; a dash once decided."""
    from icl_core.report.tables import DASH, paper_vs_measured

    vs = [Verdict("C1", "m", "p", "inconclusive", "", "", {"projected_trials": 28}),
          Verdict("C7", "m", "p", "inconclusive", "", "", {"projected_tasks": 19}),
          Verdict("C9", "m", "p", "holds", "", "", {"projected_trials": 5})]  # fmt: skip
    assert [row[-1] for row in paper_vs_measured(vs).rows] == ["28", "19 tasks", DASH]
