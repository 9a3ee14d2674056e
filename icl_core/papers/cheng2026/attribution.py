"""Paper protocol vs rigorous protocol (SPEC 6): the paper's figure beside ours under both
protocols, and the ablations that attribute the difference to one ingredient of the paper's
protocol at a time.

Input rows are `headline.headline_figures(suite)` (the extra table "headline_figures"): one
number per (model, protocol, claim) with k, n and interval. Rate changes carry Newcombe 95%
intervals; C3 (a depth) carries none. `COMPARISON`: this section, for `write_report`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

import matplotlib

from icl_core.papers.cheng2026.protocols import ABLATIONS, PAPER, RIGOROUS
from icl_core.records import Verdict
from icl_core.report.document import Block, Heading, Image, Paragraph, Table
from icl_core.report.plotting import (
    STYLE,
    FigureInfo,
    Writer,
    as_float,
    new_figure,
    palette,
    tex_safe,
)
from icl_core.report.sections import Section
from icl_core.report.tables import natural_key
from icl_core.stats import compare_rates

ATTRIBUTION_CLAIMS = ("C1", "C2", "C3", "C5", "C6", "C9")
DEPTH_CLAIMS = ("C3",)
DASH = "—"


def _index(figures: Sequence[dict]) -> dict[tuple[str, str, str], dict]:
    return {(f["model"], f["protocol"], f["claim"]): f for f in figures}


def format_figure(f: dict | None) -> str:
    """ "10/13 = 76.9% [49.7, 91.8] at L2" for a rate; "depth 0.07 (L2) [0.00, 0.53], 10/13"
    for C3; a dash where not measured."""
    if f is None:
        return DASH
    if f["claim"] in DEPTH_CLAIMS:
        return (f"depth {f['value']:.2f} (L{f['layer']}) [{f['ci_low']:.2f}, "
                f"{f['ci_high']:.2f}], {f['k']}/{f['n']}")  # fmt: skip
    at = f" at L{f['layer']}" if f.get("layer") is not None else ""
    return (f"{f['k']}/{f['n']} = {100 * f['value']:.1f}% [{100 * f['ci_low']:.1f}, "
            f"{100 * f['ci_high']:.1f}]{at}")  # fmt: skip


def change(f: dict, base: dict) -> tuple[float, str]:
    """(difference f - base, its text): percentage points with the Newcombe 95% interval for
    rates; the depth difference for C3."""
    if f["claim"] in DEPTH_CLAIMS:
        d = f["value"] - base["value"]
        return d, f"{d:+.2f} depth"
    diff = compare_rates(f["k"], f["n"], base["k"], base["n"])
    return diff.difference, (f"{100 * diff.difference:+.1f} pts [{100 * diff.ci_low:+.1f}, "
                             f"{100 * diff.ci_high:+.1f}]")  # fmt: skip


def explaining_ingredient(index: dict, model: str, claim: str) -> str:
    """The single switched ingredient that moves the paper-protocol figure furthest toward the
    rigorous one, with the share of the gap it closes; or why there is none."""
    paper, rigorous = index.get((model, PAPER, claim)), index.get((model, RIGOROUS, claim))
    if paper is None or rigorous is None:
        return DASH
    gap = rigorous["value"] - paper["value"]
    if claim not in DEPTH_CLAIMS:
        diff = compare_rates(rigorous["k"], rigorous["n"], paper["k"], paper["n"])
        if diff.ci_low <= 0 <= diff.ci_high:
            return "no significant gap (95% interval of the difference contains 0)"
    if gap == 0:
        return "no gap"
    shares = {}
    for name in ABLATIONS:
        f = index.get((model, name, claim))
        if f is not None:
            shares[name.split("+", 1)[1]] = (f["value"] - paper["value"]) / gap
    if not shares:
        return "no ablation measured"
    best = max(shares, key=shares.get)
    if shares[best] <= 0:
        return "none: no single switch moves the figure toward rigorous"
    return f"{best} (closes {100 * shares[best]:.0f}% of the gap)"


def side_by_side(figures: Sequence[dict], verdicts: Sequence[Verdict]) -> Table:
    """Per claim and model: the paper's figure, ours under paper and under rigorous (figure and
    status), and the ingredient that explains most of the gap."""
    index = _index(figures)
    status = {(v.model, v.protocol, v.claim): v for v in verdicts}
    models = sorted({f["model"] for f in figures})
    rows = []
    for claim in ATTRIBUTION_CLAIMS:
        for model in models:
            cells = []
            for protocol in (PAPER, RIGOROUS):
                v = status.get((model, protocol, claim))
                text = format_figure(index.get((model, protocol, claim)))
                cells.append(f"{text} ({v.status})" if v else text)
            paper_text = next((v.paper for v in verdicts if v.claim == claim), DASH)
            rows.append((claim, model, paper_text, *cells,
                         explaining_ingredient(index, model, claim)))  # fmt: skip
    columns = ("claim", "model", "paper's figure", "ours: paper protocol", "ours: rigorous",
               "ingredient explaining most of the gap")  # fmt: skip
    return Table(columns, tuple(rows))


def attribution_table(figures: Sequence[dict], model: str) -> Table:
    """Rows: the paper protocol, then each single-ingredient switch; columns: the headline
    figure of each claim and its change against the paper protocol."""
    index = _index(figures)
    rows = []
    for protocol in (PAPER, *ABLATIONS):
        row = [protocol if protocol == PAPER else protocol.split("+", 1)[1]]
        for claim in ATTRIBUTION_CLAIMS:
            f, base = index.get((model, protocol, claim)), index.get((model, PAPER, claim))
            text = format_figure(f)
            if f is not None and base is not None and protocol != PAPER:
                text += f"; change {change(f, base)[1]}"
            row.append(text)
        rows.append(tuple(row))
    return Table(("switched ingredient", *ATTRIBUTION_CLAIMS), tuple(rows))


def comparison_blocks(figures: Sequence[dict], verdicts: Sequence[Verdict],
                      images: Sequence[FigureInfo] = ()) -> list[Block]:  # fmt: skip
    """The section "Paper protocol vs rigorous protocol" (empty if the run lacks either);
    `images`: report figures, those of section "attribution:<model>" shown under its table."""
    protocols = {f["protocol"] for f in figures}
    if not {PAPER, RIGOROUS} <= protocols:
        return []
    blocks: list[Block] = [
        Heading(2, "Paper protocol vs rigorous protocol"),
        Paragraph(
            "The paper's figure, ours under its released protocol (`paper`: fixed demos, its "
            "positions, lenient scorers, mean source, its layer grid, absolute tracing noise) and"
            " ours under the rigorous protocol. Headline figures: C1 the highest transfer at the "
            "paper's single positions (last demo token, first query token), C2 all_demo transfer "
            "at the best layer, C3 the best layer's depth, C5 the lowest query-noise disruption "
            "in the first half of depth, C6 the nearest-centroid probe at the last demo token, C9"
            " the highest control transfer. Rigorous rates count trials whose clean source is "
            "answered correctly; the paper protocol counts every trial, as the paper did. The "
            "last column names the single ingredient switch (table below) that moves the paper "
            "protocol's figure furthest toward the rigorous one."
        ),
        side_by_side(figures, verdicts),
    ]
    for model in sorted({f["model"] for f in figures}):
        if not any(f["model"] == model and f["protocol"] in ABLATIONS for f in figures):
            continue
        blocks += [
            Heading(3, f"Attribution: {model}"),
            Paragraph(
                "Starting from the paper protocol, one ingredient at a time is switched to its "
                "rigorous counterpart; each cell gives the headline figure and its change "
                "against the paper protocol (rates: percentage points, Newcombe 95% interval; "
                "C3: the change in depth). A dash: not measured under that protocol."
            ),
            attribution_table(figures, model),
        ]
        blocks += [Image(f.path, f.caption) for f in images
                   if f.experiment == f"attribution:{model}"]  # fmt: skip
    return blocks


def attribution_figures(w: Writer, rows: Sequence[dict]) -> None:
    """Per model with more than one protocol: the headline figure of each claim (panels) under
    each protocol (rows, in first-seen order) with its 95% interval, from the
    'headline_figures' extra table (rates and C3's depth, all on [0, 1]; variants such as
    "C2 (all valid trials)" left out)."""
    by_model: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_model[str(r.get("model", ""))].append(r)
    for model, mine in by_model.items():
        protocols = list(dict.fromkeys(str(r["protocol"]) for r in mine))
        claims = sorted({str(r["claim"]) for r in mine if " " not in str(r["claim"])},
                        key=natural_key)  # fmt: skip
        if len(protocols) < 2:
            continue
        index = {(str(r["protocol"]), str(r["claim"])): r for r in mine}
        colors = palette(protocols)
        with matplotlib.rc_context(STYLE):
            fig = new_figure(1.6 * len(claims) + 1.6, 0.28 * len(protocols) + 1.0)
            axes = fig.subplots(1, len(claims), sharey=True, squeeze=False)[0]
            for ax, claim in zip(axes, claims, strict=True):
                for i, protocol in enumerate(protocols):
                    r = index.get((protocol, claim))
                    value = as_float(r.get("value")) if r else math.nan
                    if math.isnan(value):
                        continue
                    lo, hi = as_float(r.get("ci_low")), as_float(r.get("ci_high"))
                    if not (math.isnan(lo) or math.isnan(hi)):
                        ax.errorbar([value], [i], xerr=[[max(0.0, value - lo)],
                                    [max(0.0, hi - value)]], fmt="none", capsize=2, lw=1,
                                    ecolor=colors[protocol])  # fmt: skip
                    ax.plot([value], [i], "o", ms=4, color=colors[protocol])
                ax.set_xlim(-0.02, 1.02)
                ax.set_title("C3 (depth)" if claim == "C3" else claim)
            axes[0].set_yticks(range(len(protocols)), [tex_safe(x) for x in protocols])
            axes[0].set_ylim(-0.7, len(protocols) - 0.3)
            axes[0].invert_yaxis()
            fig.suptitle(tex_safe(f"headline figure per protocol, {model}"))
        caption = (
            f"Headline figure of each claim under each protocol, {model}: point and 95% "
            f"interval (rates; C3: the best layer's depth and its bootstrap interval)."
        )
        w.save(fig, f"attribution_{model}", caption, "attribution", f"attribution:{model}")


COMPARISON = Section(
    figures=lambda w, extra: attribution_figures(w, extra.get("headline_figures", [])),
    blocks=lambda extra, verdicts, figures: comparison_blocks(
        extra.get("headline_figures", []), verdicts, figures
    ),
)
