"""Drawing for the report figures: a fixed style, deterministic PNGs (no pyplot state), Wilson
bands around rates, and the shared line-figure layout (`line_figure`)."""

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

DPI = 110
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


def tex_safe(text: object) -> str:
    """Text safe for matplotlib labels ('$' would start mathtext)."""
    return str(text).replace("$", r"\$")


def has_trials(cell: Cell) -> bool:
    return cell.n > 0 and not math.isnan(cell.rate)


def as_float(value: object) -> float:
    """`value` as a float; NaN when missing or not a number."""
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return out


def palette(labels: Sequence[str]) -> dict[str, tuple]:
    """A colour per label, in order: tab10 for up to 10 labels, else tab20 (cycled)."""
    cmap = matplotlib.colormaps["tab10" if len(labels) <= 10 else "tab20"]
    return {label: cmap(i % cmap.N) for i, label in enumerate(labels)}


def new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


class Writer:
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


def grid_shape(n: int, max_cols: int = 3) -> tuple[int, int]:
    ncols = max(1, min(max_cols, n))
    return math.ceil(n / ncols), ncols


def series_label(cell: Cell) -> str:
    return cell.position_set + (f" [{cell.condition}]" if cell.condition else "")


def divide(n: float, x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=float) / n


def multiply(n: float, x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=float) * n


def depth_axis(ax, n_layers: int | None) -> None:
    """A secondary x axis on top showing depth = layer / n_layers."""
    if n_layers:
        sec = ax.secondary_xaxis(
            "top", functions=(partial(divide, n_layers), partial(multiply, n_layers))
        )
        sec.set_xlabel("depth = layer / n_layers")


def plot_lines(ax, cells: Sequence[Cell], colors: dict[str, tuple]) -> bool:
    """One line per series (position set + condition) over layers, with its Wilson band;
    n = 0 cells are gaps. Returns whether anything was drawn."""
    series: dict[str, list[Cell]] = defaultdict(list)
    for c in cells:
        series[series_label(c)].append(c)
    drawn = False
    for label, members in series.items():
        members = sorted(members, key=lambda c: c.layer)
        ok = [has_trials(c) for c in members]
        if not any(ok):
            continue
        x = np.array([c.layer for c in members], dtype=float)
        y = np.array([c.rate if v else math.nan for c, v in zip(members, ok, strict=True)])
        lo = np.array([c.ci_low if v else math.nan for c, v in zip(members, ok, strict=True)])
        hi = np.array([c.ci_high if v else math.nan for c, v in zip(members, ok, strict=True)])
        color = colors[label]
        marker = MARKERS[list(colors).index(label) % len(MARKERS)]
        ax.plot(x, y, marker=marker, ms=3.5, lw=1.2, color=color, label=tex_safe(label))
        alpha = 0.15 if len(series) <= 4 else 0.06  # many bands: keep the lines readable
        ax.fill_between(x, lo, hi, color=color, alpha=alpha, lw=0)
        drawn = True
    return drawn


def no_data(ax) -> None:
    ax.text(0.5, 0.5, "no valid trials", ha="center", va="center", transform=ax.transAxes)


def figure_legend(fig: Figure, axes: Sequence) -> None:
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


def line_figure(
    by_pair: dict[str, list[Cell]],
    title: str,
    ylabel: str,
    n_layers: int | None,
    extra: Callable[[object, str], None] | None = None,
) -> Figure:
    """Panels (one per pair) of rate vs layer per series, sharing one legend."""
    pairs = list(by_pair)
    nrows, ncols = grid_shape(len(pairs))
    fig = new_figure(3.6 * ncols + 1.8, 2.7 * nrows + 0.4)
    labels = list(dict.fromkeys(series_label(c) for p in pairs for c in by_pair[p]))
    colors = palette(labels)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, pair in zip(axes, pairs, strict=False):
        if not plot_lines(ax, by_pair[pair], colors):
            no_data(ax)
        if extra is not None:
            extra(ax, pair)
        ax.set_title(tex_safe(pair))
        ax.set_ylim(-0.03, 1.03)
        ax.set_xlabel("layer L (block output)")
        ax.set_ylabel(tex_safe(ylabel))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        layers = [c.layer for c in by_pair[pair]]
        if layers:
            ax.set_xlim(min(layers) - 0.5, max(layers) + 0.5)
        depth_axis(ax, n_layers)
    for ax in axes[len(pairs) :]:
        ax.set_visible(False)
    figure_legend(fig, axes[: len(pairs)])
    fig.suptitle(tex_safe(title))
    return fig
