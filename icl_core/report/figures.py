"""Report figures (PNG, matplotlib Agg, no pyplot state): what was measured, with Wilson bands.

Each builder returns the figures it wrote as FigureInfo; a figure is skipped only when its data
is absent. Cells with n = 0 (NaN rate) are drawn as gaps, never as points. Output is
deterministic: fixed style, no timestamps or software tag in the PNG metadata.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from icl_core.records import Cell
from icl_core.report.naming import unique_slug
from icl_core.report.tables import natural_key

DPI = 110
SWEEPS = ("multi_sweep", "single_sweep")
MAX_PANELS = 12  # pairs per line figure; more are listed in the caption as left out
PNG_METADATA = {"Software": None}
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">")
STYLE = {
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "legend.fontsize": 7,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "font.family": "DejaVu Sans",
    "axes.grid": True,
    "grid.alpha": 0.3,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
}


@dataclass(frozen=True)
class FigureInfo:
    """A written figure: `path` relative to the report folder ('figures/<name>.png'),
    `caption`, `kind` (transfer, disruption, matrix, probes, best_layers, attribution), and
    the `experiment` or section it belongs to (None for other figures from extra tables)."""

    path: str
    caption: str
    kind: str
    experiment: str | None = None


def _t(text: object) -> str:
    """Text safe for matplotlib labels ('$' would start mathtext)."""
    return str(text).replace("$", r"\$")


def _valid(cell: Cell) -> bool:
    return cell.n > 0 and not math.isnan(cell.rate)


def _num(value: object) -> float:
    """`value` as a float; NaN when missing or not a number."""
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return out


def _palette(labels: Sequence[str]) -> dict[str, tuple]:
    """A colour per label, in order: tab10 for up to 10 labels, else tab20 (cycled)."""
    cmap = matplotlib.colormaps["tab10" if len(labels) <= 10 else "tab20"]
    return {label: cmap(i % cmap.N) for i, label in enumerate(labels)}


def _new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


class _Writer:
    """Saves figures under out_dir/figures with unique, data-derived names."""

    def __init__(self, out_dir: Path) -> None:
        self.folder = out_dir / "figures"
        self.used: set[str] = set()
        self.written: list[FigureInfo] = []

    def save(
        self, fig: Figure, stem: str, caption: str, kind: str, experiment: str | None = None
    ) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = unique_slug(stem, self.used) + ".png"
        fig.savefig(self.folder / name, dpi=DPI, metadata=PNG_METADATA)
        self.written.append(FigureInfo(f"figures/{name}", caption, kind, experiment))


def _grid(n: int, max_cols: int = 3) -> tuple[int, int]:
    ncols = max(1, min(max_cols, n))
    return math.ceil(n / ncols), ncols


def _series_label(cell: Cell) -> str:
    return cell.position_set + (f" [{cell.condition}]" if cell.condition else "")


def _div(n: float, x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=float) / n


def _mul(n: float, x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=float) * n


def _depth_axis(ax, n_layers: int | None) -> None:
    """A secondary x axis on top showing depth = layer / n_layers."""
    if n_layers:
        sec = ax.secondary_xaxis(
            "top", functions=(partial(_div, n_layers), partial(_mul, n_layers))
        )
        sec.set_xlabel("depth = layer / n_layers")


def _plot_lines(ax, cells: Sequence[Cell], colors: dict[str, tuple]) -> bool:
    """One line per series (position set + condition) over layers, with its Wilson band;
    n = 0 cells are gaps. Returns whether anything was drawn."""
    series: dict[str, list[Cell]] = defaultdict(list)
    for c in cells:
        series[_series_label(c)].append(c)
    drawn = False
    for label, members in series.items():
        members = sorted(members, key=lambda c: c.layer)
        ok = [_valid(c) for c in members]
        if not any(ok):
            continue
        x = np.array([c.layer for c in members], dtype=float)
        y = np.array([c.rate if v else math.nan for c, v in zip(members, ok, strict=True)])
        lo = np.array([c.ci_low if v else math.nan for c, v in zip(members, ok, strict=True)])
        hi = np.array([c.ci_high if v else math.nan for c, v in zip(members, ok, strict=True)])
        color = colors[label]
        marker = MARKERS[list(colors).index(label) % len(MARKERS)]
        ax.plot(x, y, marker=marker, ms=3.5, lw=1.2, color=color, label=_t(label))
        alpha = 0.15 if len(series) <= 4 else 0.06  # many bands: keep the lines readable
        ax.fill_between(x, lo, hi, color=color, alpha=alpha, lw=0)
        drawn = True
    return drawn


def _no_data(ax) -> None:
    ax.text(0.5, 0.5, "no valid trials", ha="center", va="center", transform=ax.transAxes)


def _figure_legend(fig: Figure, axes: Sequence) -> None:
    handles, labels, seen = [], [], set()
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in seen:
                seen.add(lab)
                handles.append(h)
                labels.append(lab)
    if handles:
        ncols = min(4, len(labels))
        fig.legend(handles, labels, loc="outside lower center", ncols=ncols, frameon=False)


def _line_figure(
    by_pair: dict[str, list[Cell]],
    title: str,
    ylabel: str,
    n_layers: int | None,
    extra: Callable[[object, str], None] | None = None,
) -> Figure:
    """Panels (one per pair) of rate vs layer per series, sharing one legend."""
    pairs = list(by_pair)
    nrows, ncols = _grid(len(pairs))
    fig = _new_figure(3.6 * ncols + 1.8, 2.7 * nrows + 0.4)
    labels = list(dict.fromkeys(_series_label(c) for p in pairs for c in by_pair[p]))
    colors = _palette(labels)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, pair in zip(axes, pairs, strict=False):
        if not _plot_lines(ax, by_pair[pair], colors):
            _no_data(ax)
        if extra is not None:
            extra(ax, pair)
        ax.set_title(_t(pair))
        ax.set_ylim(-0.03, 1.03)
        ax.set_xlabel("layer L (block output)")
        ax.set_ylabel(_t(ylabel))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        layers = [c.layer for c in by_pair[pair]]
        if layers:
            ax.set_xlim(min(layers) - 0.5, max(layers) + 0.5)
        _depth_axis(ax, n_layers)
    for ax in axes[len(pairs) :]:
        ax.set_visible(False)
    _figure_legend(fig, axes[: len(pairs)])
    fig.suptitle(_t(title))
    return fig


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


def transfer_figures(w: _Writer, cells: Sequence[Cell], n_layers: dict[str, int]) -> None:
    """Transfer vs layer, one figure per (model, protocol, sweep experiment)."""
    sweep = [c for c in cells if c.experiment in SWEEPS]
    for (model, protocol, exp), members in _groups(
        sweep, lambda c: (c.model, c.protocol, c.experiment)
    ).items():
        by_pair, left = _by_pair(members)
        title = f"{exp}: transfer vs layer — {model} ({protocol})"
        with matplotlib.rc_context(STYLE):
            fig = _line_figure(by_pair, title, "transfer rate", n_layers.get(model))
        caption = (
            f"Transfer rate vs layer, {exp}, {model} ({protocol}): one line per position set, "
            f"Wilson 95% bands{_left_out(left)}."
        )
        w.save(fig, f"transfer_{model}_{protocol}_{exp}", caption, "transfer", exp)


def disruption_figures(w: _Writer, cells: Sequence[Cell], n_layers: dict[str, int]) -> None:
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
            fig = _line_figure(
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


def matrix_figures(w: _Writer, cells: Sequence[Cell]) -> None:
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
            if _valid(c):
                values[i, j] = c.rate
        with matplotlib.rc_context(STYLE):
            fig = _new_figure(max(3.8, 0.6 * len(cols) + 2.4), max(3.0, 0.5 * len(rows) + 1.8))
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
            ax.set_xticks(range(len(cols)), [_t(c) for c in cols], rotation=45, ha="right")
            ax.set_yticks(range(len(rows)), [_t(r) for r in rows])
            ax.set_xlabel("target task")
            ax.set_ylabel("source task")
            fig.colorbar(im, ax=ax, label="rate")
            extra = f", {cond}" if cond else ""
            ax.set_title(_t(f"{model} ({protocol}), layer {layer}, {pos}{extra}"))
        caption = (
            f"Pair matrix, {model} ({protocol}), layer {layer}, {pos}{extra}: rate in % "
            "(rows: source task, columns: target task; grey: not measured or no valid trial)."
        )
        stem = f"matrix_{model}_{protocol}_L{layer}_{pos}" + (f"_{cond}" if cond else "")
        w.save(fig, stem, caption, "matrix", "matrix")


def probe_figures(w: _Writer, rows: Sequence[dict], n_layers: dict[str, int]) -> None:
    """Probe accuracy vs layer from the 'probes' extra table, one figure per (model,
    protocol), one line per (probe, position), bands from ci_low/ci_high where given."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        groups[(str(r.get("model", "")), str(r.get("protocol", "")))].append(r)
    for (model, protocol), members in groups.items():
        series: dict[str, list[dict]] = defaultdict(list)
        for r in members:
            series[f"{r.get('probe', '')} @ {r.get('position', '')}"].append(r)
        colors = _palette(list(series))
        with matplotlib.rc_context(STYLE):
            fig = _new_figure(6.2, 3.2)
            ax = fig.subplots()
            drawn = False
            for label, pts in series.items():
                pts = sorted(pts, key=lambda r: _num(r.get("layer")))
                x = np.array([_num(r.get("layer")) for r in pts])
                y = np.array([_num(r.get("accuracy")) for r in pts])
                keep = ~np.isnan(x)
                x, y = x[keep], y[keep]
                if not np.isfinite(y).any():
                    continue
                lo = np.array([_num(r.get("ci_low")) for r in pts])[keep]
                hi = np.array([_num(r.get("ci_high")) for r in pts])[keep]
                ax.plot(x, y, marker="o", ms=3, lw=1.2, color=colors[label], label=_t(label))
                if np.isfinite(lo).any() and np.isfinite(hi).any():
                    ax.fill_between(x, lo, hi, color=colors[label], alpha=0.15, lw=0)
                drawn = True
            if not drawn:
                _no_data(ax)
            ax.set_ylim(-0.03, 1.03)
            ax.set_xlabel("layer L")
            ax.set_ylabel("probe accuracy (held out)")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            _depth_axis(ax, n_layers.get(model))
            ax.set_title(_t(f"probe accuracy vs layer — {model} ({protocol})"))
            if drawn:
                fig.legend(loc="outside right upper", frameon=False)
        caption = f"Probe accuracy vs layer, {model} ({protocol}), one line per probe and position."
        w.save(fig, f"probes_{model}_{protocol}", caption, "probes")


def best_layer_figure(w: _Writer, rows: Sequence[dict]) -> None:
    """Depth of the best layer per (model, protocol) from the 'best_layers' extra table (the
    argmax: a description), C3's band layer (the one its rule tested), the C3 window
    [0.2, 0.4] and the paper's ~0.30."""
    if not rows:
        return
    with matplotlib.rc_context(STYLE):
        fig = _new_figure(6.2, max(2.2, 0.35 * len(rows) + 1.4))
        ax = fig.subplots()
        ax.axvspan(0.2, 0.4, color="tab:green", alpha=0.12, lw=0, label="C3 window [0.2, 0.4]")
        ax.axvline(0.3, color="black", ls=":", lw=1, label="paper: ~30% depth")
        labels = []
        for i, r in enumerate(rows):
            n = _num(r.get("n_layers"))
            best = _num(r.get("best_layer"))
            depth = _num(r.get("depth"))
            if math.isnan(depth) and n > 0:
                depth = best / n
            band = _num(r.get("band_layer"))
            labels.append(_t(f"{r.get('model', '')} ({r.get('protocol', '')})"))
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


def attribution_figures(w: _Writer, rows: Sequence[dict]) -> None:
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
        colors = _palette(protocols)
        with matplotlib.rc_context(STYLE):
            fig = _new_figure(1.6 * len(claims) + 1.6, 0.28 * len(protocols) + 1.0)
            axes = fig.subplots(1, len(claims), sharey=True, squeeze=False)[0]
            for ax, claim in zip(axes, claims, strict=True):
                for i, protocol in enumerate(protocols):
                    r = index.get((protocol, claim))
                    value = _num(r.get("value")) if r else math.nan
                    if math.isnan(value):
                        continue
                    lo, hi = _num(r.get("ci_low")), _num(r.get("ci_high"))
                    if not (math.isnan(lo) or math.isnan(hi)):
                        ax.errorbar([value], [i], xerr=[[max(0.0, value - lo)],
                                    [max(0.0, hi - value)]], fmt="none", capsize=2, lw=1,
                                    ecolor=colors[protocol])  # fmt: skip
                    ax.plot([value], [i], "o", ms=4, color=colors[protocol])
                ax.set_xlim(-0.02, 1.02)
                ax.set_title("C3 (depth)" if claim == "C3" else claim)
            axes[0].set_yticks(range(len(protocols)), [_t(x) for x in protocols])
            axes[0].set_ylim(-0.7, len(protocols) - 0.3)
            axes[0].invert_yaxis()
            fig.suptitle(_t(f"headline figure per protocol, {model}"))
        caption = (
            f"Headline figure of each claim under each protocol, {model}: point and 95% "
            f"interval (rates; C3: the best layer's depth and its bootstrap interval)."
        )
        w.save(fig, f"attribution_{model}", caption, "attribution", f"attribution:{model}")


def make_figures(
    out_dir: Path,
    cells: Sequence[Cell],
    n_layers: dict[str, int] | None = None,
    extra_tables: dict[str, list[dict]] | None = None,
) -> list[FigureInfo]:
    """Write every figure whose data is present into out_dir/figures; return them in order:
    transfer, disruption, matrix, probes, best layers, attribution. `n_layers` maps model ->
    number of layers (for the depth axis; inferred from cells where missing)."""
    layers = dict(infer_n_layers(cells))
    layers.update(n_layers or {})
    extra = extra_tables or {}
    w = _Writer(out_dir)
    transfer_figures(w, cells, layers)
    disruption_figures(w, cells, layers)
    matrix_figures(w, cells)
    if extra.get("probes"):
        probe_figures(w, extra["probes"], layers)
    if extra.get("best_layers"):
        best_layer_figure(w, extra["best_layers"])
    if extra.get("headline_figures"):
        attribution_figures(w, extra["headline_figures"])
    return w.written


def infer_n_layers(cells: Sequence[Cell]) -> dict[str, int]:
    """model -> n_layers recovered from layer / depth of its cells with layer > 0."""
    out: dict[str, int] = {}
    for c in cells:
        if c.model not in out and c.layer > 0 and c.depth > 0:
            out[c.model] = round(c.layer / c.depth)
    return out
