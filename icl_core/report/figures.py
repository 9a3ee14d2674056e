"""Report figures (PNG, matplotlib Agg, no pyplot state): what was measured, with Wilson bands.

Each builder returns the figures it wrote as FigureInfo; a figure is skipped only when its data
is absent. Cells with n = 0 (NaN rate) are drawn as gaps, never as points. Output is
deterministic: fixed style, no timestamps or software tag in the PNG metadata.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.ticker import MaxNLocator

from icl_core.records import Cell
from icl_core.report.plotting import (
    STYLE,
    FigureInfo,
    Writer,
    as_float,
    depth_axis,
    has_trials,
    line_figure,
    new_figure,
    no_data,
    palette,
    tex_safe,
)
from icl_core.report.sections import Section

SWEEPS = ("multi_sweep", "single_sweep")
MAX_PANELS = 12  # pairs per line figure; more are listed in the caption as left out


def _groups(cells: Sequence[Cell], key: Callable[[Cell], tuple]) -> dict[tuple, list[Cell]]:
    out: dict[tuple, list[Cell]] = defaultdict(list)
    for c in cells:
        out[key(c)].append(c)
    return out


def _by_pair(cells: Sequence[Cell]) -> tuple[dict[str, list[Cell]], int]:
    """Cells by pair (first seen), at most MAX_PANELS pairs; also the number left out."""
    by: dict[str, list[Cell]] = defaultdict(list)
    for c in cells:
        by[c.pair].append(c)
    pairs = list(by)
    return {p: by[p] for p in pairs[:MAX_PANELS]}, max(0, len(pairs) - MAX_PANELS)


def _left_out(n: int) -> str:
    return f" ({n} more pairs left out; see results.csv)" if n else ""


def transfer_figures(w: Writer, cells: Sequence[Cell], n_layers: dict[str, int]) -> None:
    """Transfer vs layer, one figure per (model, protocol, sweep experiment)."""
    sweep = [c for c in cells if c.experiment in SWEEPS]
    for (model, protocol, exp), members in _groups(
        sweep, lambda c: (c.model, c.protocol, c.experiment)
    ).items():
        by_pair, left = _by_pair(members)
        title = f"{exp}: transfer vs layer — {model} ({protocol})"
        with matplotlib.rc_context(STYLE):
            fig = line_figure(by_pair, title, "transfer rate", n_layers.get(model))
        caption = (
            f"Transfer rate vs layer, {exp}, {model} ({protocol}): one line per position set, "
            f"Wilson 95% bands{_left_out(left)}."
        )
        w.save(fig, f"transfer_{model}_{protocol}_{exp}", caption, "transfer", exp)


def disruption_figures(w: Writer, cells: Sequence[Cell], n_layers: dict[str, int]) -> None:
    """Accuracy under noise vs layer (experiment 'tracing'), with the clean accuracy as a
    dashed line where 'clean' cells exist; one figure per (model, protocol)."""
    tracing = [c for c in cells if c.experiment == "tracing"]
    for (model, protocol), members in _groups(tracing, lambda c: (c.model, c.protocol)).items():
        clean: dict[str, list[int]] = {}
        for c in members:
            if c.position_set == "clean":
                kn = clean.setdefault(c.pair, [0, 0])
                kn[0] += c.k
                kn[1] += c.n
        noised = [c for c in members if c.position_set != "clean"]
        by_pair, left = _by_pair(noised or members)
        if not noised:
            by_pair = {p: [] for p in by_pair}

        def draw_clean(ax, pair: str, clean: dict = clean) -> None:
            k, n = clean.get(pair, (0, 0))
            if n:
                ax.axhline(k / n, ls="--", lw=1, color="black", label="clean accuracy")

        title = f"tracing: accuracy under noise vs layer — {model} ({protocol})"
        with matplotlib.rc_context(STYLE):
            fig = line_figure(
                by_pair, title, "accuracy (target correct)", n_layers.get(model), draw_clean
            )
        caption = (
            f"Noise tracing, {model} ({protocol}): target accuracy with noise at each position "
            "set vs layer (disruption = drop below the dashed clean accuracy), Wilson 95% "
            f"bands{_left_out(left)}."
        )
        w.save(fig, f"disruption_{model}_{protocol}", caption, "disruption", "tracing")


def _split_pair(pair: str) -> tuple[str, str]:
    src, _, tgt = pair.partition("->")
    return src, tgt


def matrix_figures(w: Writer, cells: Sequence[Cell]) -> None:
    """Pair-matrix heatmaps (experiment 'matrix'): rows source task, columns target task,
    value = rate (annotated in %); one per (model, protocol, layer, position set, condition).
    Grey = not measured or n = 0."""
    matrix = [c for c in cells if c.experiment == "matrix"]
    groups = _groups(matrix, lambda c: (c.model, c.protocol, c.layer, c.position_set, c.condition))
    for (model, protocol, layer, pos, cond), members in groups.items():
        split = [_split_pair(c.pair) for c in members]
        tasks = list(dict.fromkeys(t for st in split for t in st))
        rows = [t for t in tasks if any(s == t for s, _ in split)]
        cols = [t for t in tasks if any(g == t for _, g in split)]
        values = np.full((len(rows), len(cols)), np.nan)
        measured = np.zeros_like(values, dtype=bool)
        for c, (s, g) in zip(members, split, strict=True):
            i, j = rows.index(s), cols.index(g)
            measured[i, j] = True
            if has_trials(c):
                values[i, j] = c.rate
        with matplotlib.rc_context(STYLE):
            fig = new_figure(max(3.8, 0.6 * len(cols) + 2.4), max(3.0, 0.5 * len(rows) + 1.8))
            ax = fig.subplots()
            cmap = matplotlib.colormaps["viridis"].with_extremes(bad="#dddddd")
            im = ax.imshow(np.ma.masked_invalid(values), vmin=0, vmax=1, cmap=cmap, aspect="auto")
            ax.grid(False)
            for i in range(len(rows)):
                for j in range(len(cols)):
                    v = values[i, j]
                    if not math.isnan(v):
                        color = "white" if v < 0.5 else "black"
                        ax.text(j, i, f"{100 * v:.0f}", ha="center", va="center", color=color)
                    elif measured[i, j]:
                        ax.text(j, i, "n=0", ha="center", va="center", color="#555555")
            ax.set_xticks(range(len(cols)), [tex_safe(c) for c in cols], rotation=45, ha="right")
            ax.set_yticks(range(len(rows)), [tex_safe(r) for r in rows])
            ax.set_xlabel("target task")
            ax.set_ylabel("source task")
            fig.colorbar(im, ax=ax, label="rate")
            extra = f", {cond}" if cond else ""
            ax.set_title(tex_safe(f"{model} ({protocol}), layer {layer}, {pos}{extra}"))
        caption = (
            f"Pair matrix, {model} ({protocol}), layer {layer}, {pos}{extra}: rate in % "
            "(rows: source task, columns: target task; grey: not measured or no valid trial)."
        )
        stem = f"matrix_{model}_{protocol}_L{layer}_{pos}" + (f"_{cond}" if cond else "")
        w.save(fig, stem, caption, "matrix", "matrix")


def probe_figures(w: Writer, rows: Sequence[dict], n_layers: dict[str, int]) -> None:
    """Probe accuracy vs layer from the 'probes' extra table, one figure per (model,
    protocol), one line per (probe, position), bands from ci_low/ci_high where given."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        groups[(str(r.get("model", "")), str(r.get("protocol", "")))].append(r)
    for (model, protocol), members in groups.items():
        series: dict[str, list[dict]] = defaultdict(list)
        for r in members:
            series[f"{r.get('probe', '')} @ {r.get('position', '')}"].append(r)
        colors = palette(list(series))
        with matplotlib.rc_context(STYLE):
            fig = new_figure(6.2, 3.2)
            ax = fig.subplots()
            drawn = False
            for label, pts in series.items():
                pts = sorted(pts, key=lambda r: as_float(r.get("layer")))
                x = np.array([as_float(r.get("layer")) for r in pts])
                y = np.array([as_float(r.get("accuracy")) for r in pts])
                keep = ~np.isnan(x)
                x, y = x[keep], y[keep]
                if not np.isfinite(y).any():
                    continue
                lo = np.array([as_float(r.get("ci_low")) for r in pts])[keep]
                hi = np.array([as_float(r.get("ci_high")) for r in pts])[keep]
                ax.plot(x, y, marker="o", ms=3, lw=1.2, color=colors[label], label=tex_safe(label))
                if np.isfinite(lo).any() and np.isfinite(hi).any():
                    ax.fill_between(x, lo, hi, color=colors[label], alpha=0.15, lw=0)
                drawn = True
            if not drawn:
                no_data(ax)
            ax.set_ylim(-0.03, 1.03)
            ax.set_xlabel("layer L")
            ax.set_ylabel("probe accuracy (held out)")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            depth_axis(ax, n_layers.get(model))
            ax.set_title(tex_safe(f"probe accuracy vs layer — {model} ({protocol})"))
            if drawn:
                fig.legend(loc="outside right upper", frameon=False)
        caption = f"Probe accuracy vs layer, {model} ({protocol}), one line per probe and position."
        w.save(fig, f"probes_{model}_{protocol}", caption, "probes")


def best_layer_figure(w: Writer, rows: Sequence[dict]) -> None:
    """Depth of the best layer per (model, protocol) from the 'best_layers' extra table (the
    argmax: a description), C3's band layer (the one its rule tested), the C3 window
    [0.2, 0.4] and the paper's ~0.30."""
    if not rows:
        return
    with matplotlib.rc_context(STYLE):
        fig = new_figure(6.2, max(2.2, 0.35 * len(rows) + 1.4))
        ax = fig.subplots()
        ax.axvspan(0.2, 0.4, color="tab:green", alpha=0.12, lw=0, label="C3 window [0.2, 0.4]")
        ax.axvline(0.3, color="black", ls=":", lw=1, label="paper: ~30% depth")
        labels = []
        for i, r in enumerate(rows):
            n = as_float(r.get("n_layers"))
            best = as_float(r.get("best_layer"))
            depth = as_float(r.get("depth"))
            if math.isnan(depth) and n > 0:
                depth = best / n
            band = as_float(r.get("band_layer"))
            labels.append(tex_safe(f"{r.get('model', '')} ({r.get('protocol', '')})"))
            if math.isnan(depth):
                continue
            if not math.isnan(band) and n > 0:
                ax.plot([band / n], [i], "s", mfc="none", color="tab:green")
            ax.plot([depth], [i], "o", color="tab:blue")
            if not math.isnan(best):
                tag = f"L{best:.0f}/{n:.0f}" if n > 0 else f"L{best:.0f}"
                ax.annotate(tag, (depth, i), xytext=(4, 4), textcoords="offset points")
        ax.set_yticks(range(len(rows)), labels)
        ax.set_ylim(-0.7, len(rows) - 0.3)
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_xlabel("depth of the best layer (layer / n_layers)")
        ax.set_title("best intervention layer per model")
        ax.legend(loc="lower right", frameon=False)
    caption = (
        "Depth of the best layer per model (point: the argmax, a description), the band layer "
        "C3's rule tested (open square), the C3 window [0.2, 0.4] (green) and the paper's ~30% "
        "(dotted)."
    )
    w.save(fig, "best_layers", caption, "best_layers")


def make_figures(
    out_dir: Path,
    cells: Sequence[Cell],
    n_layers: dict[str, int] | None = None,
    extra_tables: dict[str, list[dict]] | None = None,
    sections: Sequence[Section] = (),
) -> list[FigureInfo]:
    """Write every figure whose data is present into out_dir/figures; return them in order:
    transfer, disruption, matrix, probes, best layers, then each of `sections`'. `n_layers`
    maps model -> number of layers (for the depth axis; inferred from cells where missing)."""
    layers = dict(infer_n_layers(cells))
    layers.update(n_layers or {})
    extra = extra_tables or {}
    w = Writer(out_dir)
    transfer_figures(w, cells, layers)
    disruption_figures(w, cells, layers)
    matrix_figures(w, cells)
    if extra.get("probes"):
        probe_figures(w, extra["probes"], layers)
    if extra.get("best_layers"):
        best_layer_figure(w, extra["best_layers"])
    for section in sections:
        section.figures(w, extra)
    return w.written


def infer_n_layers(cells: Sequence[Cell]) -> dict[str, int]:
    """model -> n_layers recovered from layer / depth of its cells with layer > 0."""
    out: dict[str, int] = {}
    for c in cells:
        if c.model not in out and c.layer > 0 and c.depth > 0:
            out[c.model] = round(c.layer / c.depth)
    return out
