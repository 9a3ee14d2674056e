"""The paper-vs-rigorous section: figures formatted with N and intervals, changes with Newcombe
intervals, and the ingredient that closes most of the gap (or why none does)."""

from icl_core.papers.cheng2026.attribution import (
    COMPARISON,
    attribution_table,
    comparison_blocks,
    explaining_ingredient,
    format_figure,
    side_by_side,
)
from icl_core.records import Verdict


def fig(protocol, claim, k, n, model="m", layer=3):
    value = k / n
    lo, hi = max(0.0, value - 0.1), min(1.0, value + 0.1)
    return dict(model=model, protocol=protocol, claim=claim, what="", value=value, k=k, n=n,
                ci_low=lo, ci_high=hi, layer=layer)  # fmt: skip


FIGURES = [
    fig("paper", "C2", 5, 40), fig("rigorous", "C2", 36, 40),
    fig("paper+demos=sampled", "C2", 8, 40), fig("paper+positions=roles", "C2", 30, 40),
    fig("paper+scorer=strict", "C2", 5, 40), fig("paper+source=paired", "C2", 2, 40),
    fig("paper+layers=all", "C2", 12, 40),
    fig("paper", "C9", 22, 40), fig("rigorous", "C9", 21, 40),
    fig("paper", "C6", 40, 40), fig("rigorous", "C6", 10, 40),
    fig("paper+scorer=strict", "C6", 40, 40),
]  # fmt: skip


def index():
    return {(f["model"], f["protocol"], f["claim"]): f for f in FIGURES}


def test_the_switch_that_closes_most_of_the_gap_is_named():
    assert explaining_ingredient(index(), "m", "C2") == "positions=roles (closes 81% of the gap)"
    assert explaining_ingredient(index(), "m", "C9").startswith("no significant gap")
    assert explaining_ingredient(index(), "m", "C6").startswith("none: no single switch")
    assert explaining_ingredient(index(), "m", "C1") == "—"


def test_tables_show_counts_intervals_and_changes():
    assert format_figure(FIGURES[0]) == "5/40 = 12.5% [2.5, 22.5] at L3"
    depth = dict(FIGURES[0], claim="C3", value=0.3, ci_low=0.2, ci_high=0.5)
    assert format_figure(depth) == "depth 0.30 (L3) [0.20, 0.50], 5/40"
    table = attribution_table(FIGURES, "m")
    rows = {r[0]: r for r in table.rows}
    assert list(rows) == ["paper", "demos=sampled", "positions=roles", "scorer=strict",
                          "source=paired", "layers=all", "noise=sigma3"]  # fmt: skip
    c2 = table.columns.index("C2")
    assert "change +62.5 pts [" in rows["positions=roles"][c2]
    assert "change" not in rows["paper"][c2] and rows["paper"][table.columns.index("C5")] == "—"
    v = [Verdict("C2", "m", "rigorous", "holds", "x", "paper's C2")]
    side = side_by_side(FIGURES, v)
    row = next(r for r in side.rows if r[0] == "C2")
    assert row[2] == "paper's C2" and row[4].endswith("(holds)") and "positions" in row[5]


def test_section_needs_both_protocols():
    assert comparison_blocks([f for f in FIGURES if f["protocol"] != "rigorous"], []) == []
    blocks = comparison_blocks(FIGURES, [])
    assert blocks[0].text == "Paper protocol vs rigorous protocol"
    assert any(getattr(b, "text", "") == "Attribution: m" for b in blocks)


def test_attribution_figure_is_drawn_and_shown_under_its_table(tmp_path):
    from icl_core.report.document import Image
    from icl_core.report.figures import make_figures

    rows = FIGURES + [fig("rigorous", "C2 (all valid trials)", 30, 40)]
    written = make_figures(tmp_path, [], {}, {"headline_figures": rows}, (COMPARISON,))
    assert not [f for f in make_figures(tmp_path / "core", [], {}, {"headline_figures": rows})
                if f.kind == "attribution"]  # fmt: skip  # the core draws no paper section
    (info,) = [f for f in written if f.kind == "attribution"]
    assert (tmp_path / info.path).stat().st_size > 0 and info.experiment == "attribution:m"
    blocks = comparison_blocks(FIGURES, [], written)
    assert [b.src for b in blocks if isinstance(b, Image)] == [info.path]
    one_protocol = [f for f in rows if f["protocol"] == "paper"]
    assert not [f for f in make_figures(tmp_path, [], {}, {"headline_figures": one_protocol},
                                        (COMPARISON,)) if f.kind == "attribution"]  # fmt: skip
