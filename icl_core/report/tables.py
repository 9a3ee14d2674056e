"""Tabular views of cells and verdicts: formatting helpers and the report's tables.

Everything here is pure (no I/O) and deterministic: row order follows input order (first
seen), except claims, which sort naturally (C2 before C10).
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import fields

from icl_core.records import Cell, Verdict
from icl_core.report.document import Table
from icl_core.report.markdown import render_table

#: Cell columns in results.csv / results.json, before the `excluded_<reason>` columns.
CELL_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(Cell) if f.name != "excluded")

#: Experiments whose key cell per group is the *lowest* rate (noise: most disruptive layer).
LOW_IS_KEY = frozenset({"tracing"})

DASH = "–"


def is_nan(value: object) -> bool:
    """True for a float NaN (or None); False for anything else."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt_value(value: object) -> str:
    """A compact text form: None -> '', NaN -> '–', floats to 4 significant digits,
    containers as compact JSON, anything else via str()."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return DASH if math.isnan(value) else f"{value:.4g}"
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
    return str(value)


def union_columns(rows: Iterable[dict]) -> list[str]:
    """The keys of `rows`, in first-seen order."""
    seen: dict[str, None] = {}
    for row in rows:
        for key in row:
            seen.setdefault(str(key), None)
    return list(seen)


def make_table(rows: Sequence[dict], columns: Sequence[str] | None = None) -> Table:
    """A document Table of `rows` (dicts) over `columns` (default: union of keys, first-seen
    order); missing values render as ''."""
    cols = list(columns) if columns is not None else union_columns(rows)
    body = tuple(tuple(fmt_value(row.get(c)) for c in cols) for row in rows)
    return Table(tuple(cols), body)


def format_table(rows: list[dict], columns: list[str] | None = None) -> str:
    """A Markdown pipe table of `rows` over `columns` (default: the union of the rows' keys in
    first-seen order). Missing values are blank, NaN is '–', floats have 4 significant
    digits, '|' is escaped. Returns '' when there are no columns (no rows and none given)."""
    return render_table(make_table(rows, columns))


def natural_key(text: str) -> list:
    """Sort key that orders embedded integers numerically ('C2' < 'C10')."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text)]


# ---------------------------------------------------------------------------------------------
# cells


def cell_rows(cells: Sequence[Cell]) -> tuple[list[str], list[dict]]:
    """Tidy rows of `cells` for results.csv/json: Cell.as_dict() widened to the union of
    `excluded_<reason>` columns (sorted), missing counts = 0. Returns (columns, rows)."""
    reasons = sorted({r for c in cells for r in c.excluded})
    columns = list(CELL_COLUMNS) + [f"excluded_{r}" for r in reasons]
    rows = []
    for cell in cells:
        d = cell.as_dict()
        rows.append({c: d.get(c, 0) for c in columns})
    return columns, rows


def fmt_rate(cell: Cell) -> tuple[str, str, str]:
    """('k/n', 'rate %', '[lo, hi]' in %) of a cell; rate and interval '–' when n = 0."""
    if cell.n == 0 or is_nan(cell.rate):
        return f"{cell.k}/{cell.n}", DASH, DASH
    return (
        f"{cell.k}/{cell.n}",
        f"{100 * cell.rate:.1f}",
        f"[{100 * cell.ci_low:.1f}, {100 * cell.ci_high:.1f}]",
    )


def experiments_of(cells: Iterable[Cell]) -> list[str]:
    """Experiment names in first-seen order."""
    return list(dict.fromkeys(c.experiment for c in cells))


def key_cells(
    cells: Sequence[Cell], experiment: str, limit: int = 40
) -> tuple[list[Cell], int, bool]:
    """The key cell of each (model, protocol, pair, position_set, condition) group of
    `experiment`: the layer with the highest rate (lowest for experiments in LOW_IS_KEY; ties
    -> first seen; an n = 0 cell only when the group has nothing else). With more than
    `limit` groups, the `limit` groups with the highest (lowest) key rates are kept. Ordered by
    model, protocol, pair, position set, condition, each in first-seen order.
    Returns (cells, number of groups, low_is_key)."""
    low = experiment in LOW_IS_KEY
    groups: dict[tuple, list[Cell]] = defaultdict(list)
    for c in cells:
        if c.experiment == experiment:
            groups[(c.model, c.protocol, c.pair, c.position_set, c.condition)].append(c)
    chosen = []
    for members in groups.values():
        valid = [c for c in members if c.n > 0 and not is_nan(c.rate)]
        if not valid:
            chosen.append(members[0])
            continue
        best = valid[0]
        for c in valid[1:]:
            if (c.rate < best.rate) if low else (c.rate > best.rate):
                best = c
        chosen.append(best)
    if len(chosen) > limit:

        def strength(c: Cell) -> float:
            if c.n == 0 or is_nan(c.rate):
                return -math.inf
            return -c.rate if low else c.rate

        keep = sorted(range(len(chosen)), key=lambda i: -strength(chosen[i]))[:limit]
        chosen = [chosen[i] for i in sorted(keep)]
    first: list[dict] = [{} for _ in range(5)]
    for key in groups:
        for d, part in zip(first, key, strict=True):
            d.setdefault(part, len(d))

    def order(c: Cell) -> tuple[int, ...]:
        key = (c.model, c.protocol, c.pair, c.position_set, c.condition)
        return tuple(d[part] for d, part in zip(first, key, strict=True))

    return sorted(chosen, key=order), len(groups), low


KEY_COLUMNS = (
    "experiment", "model", "protocol", "pair", "layer", "depth", "position_set", "condition",
    "k/n", "rate %", "95% CI",
)  # fmt: skip


def key_cell_table(cells: Sequence[Cell]) -> Table:
    """Table of cells with KEY_COLUMNS (rate and Wilson 95% interval in percent)."""
    rows = []
    for c in cells:
        kn, rate, ci = fmt_rate(c)
        rows.append(
            (c.experiment, c.model, c.protocol, c.pair, str(c.layer), f"{c.depth:.2f}",
             c.position_set, c.condition, kn, rate, ci)
        )  # fmt: skip
    return Table(KEY_COLUMNS, tuple(rows))


def exclusion_rows(cells: Sequence[Cell]) -> list[dict]:
    """Per (experiment, model, protocol): valid trials and excluded trials by reason, summed
    over cells. Reason columns sorted; missing = 0. Empty when nothing was excluded."""
    reasons = sorted({r for c in cells for r in c.excluded})
    if not reasons:
        return []
    acc: dict[tuple, dict] = {}
    for c in cells:
        key = (c.experiment, c.model, c.protocol)
        row = acc.setdefault(
            key,
            {"experiment": key[0], "model": key[1], "protocol": key[2], "valid": 0}
            | {r: 0 for r in reasons},
        )
        row["valid"] += c.n
        for reason, count in c.excluded.items():
            row[reason] += count
    return list(acc.values())


# ---------------------------------------------------------------------------------------------
# verdicts


def verdict_column(v: Verdict) -> str:
    """The verdict table's column name: '<model> (<protocol>)'."""
    return f"{v.model} ({v.protocol})"


def combine_statuses(statuses: Sequence[str]) -> str:
    """One status for several verdicts of the same (claim, model, protocol): the status when
    they agree, else 'mixed (<count> <status>, ...)' in first-seen order."""
    unique = list(dict.fromkeys(statuses))
    if len(unique) == 1:
        return unique[0]
    counts = ", ".join(f"{statuses.count(s)} {s}" for s in unique)
    return f"mixed ({counts})"


def verdict_matrix(verdicts: Sequence[Verdict]) -> dict[str, dict[str, str]]:
    """{claim: {'<model> (<protocol>)': status}}: claims in natural order, columns in
    first-seen order; repeated (claim, model, protocol) verdicts combined."""
    raw: dict[str, dict[str, list[str]]] = defaultdict(dict)
    for v in verdicts:
        raw[v.claim].setdefault(verdict_column(v), []).append(v.status)
    return {
        claim: {col: combine_statuses(sts) for col, sts in raw[claim].items()}
        for claim in sorted(raw, key=natural_key)
    }


def verdict_table(verdicts: Sequence[Verdict]) -> Table:
    """'<model> (<protocol>)' rows (first-seen order) x claims (natural order); cell = status,
    '' where not tested. A family verdict (C4) fills the row of each model it covers
    (`details["models"]`); one covering no model of the table gets its own row."""
    raw: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for v in verdicts:
        if v.model.startswith("family:"):
            continue
        raw[verdict_column(v)][v.claim].append(v.status)
    for v in verdicts:
        if not v.model.startswith("family:"):
            continue
        rows = [f"{m} ({v.protocol})" for m in v.details.get("models", [])]
        for row in [r for r in rows if r in raw] or [verdict_column(v)]:
            raw[row][v.claim].append(v.status)
    claims = sorted({v.claim for v in verdicts}, key=natural_key)
    rows = tuple(
        (row, *(combine_statuses(by_claim[c]) if c in by_claim else "" for c in claims))
        for row, by_claim in raw.items()
    )
    return Table(("model (protocol)", *claims), rows)


PAPER_COLUMNS = ("claim", "model", "protocol", "paper's figure", "our figure", "status",
                 "counted / drawn trials", "projected further trials")  # fmt: skip


def _trials(v: Verdict) -> tuple[str, str]:
    """(counted / drawn, projected further counted trials, or for C7 the tasks, of a verdict),
    DASH where unknown."""
    d = v.details
    drawn = f"{d['counted']} / {d['drawn']}" if "drawn" in d else DASH
    projected = d.get("projected_trials")
    if projected is None and d.get("projected_tasks") is not None:
        projected = f"{d['projected_tasks']} tasks"
    return drawn, DASH if projected is None or v.status != "inconclusive" else str(projected)


def paper_vs_measured(verdicts: Sequence[Verdict]) -> Table:
    """One row per verdict (claims in natural order, else input order): the paper's figure
    next to ours, how many trials were drawn and counted, and for an inconclusive verdict the
    further counted trials projected to decide it."""
    ordered = sorted(verdicts, key=lambda v: natural_key(v.claim))
    rows = tuple(
        (v.claim, v.model, v.protocol, v.paper or DASH, v.figure or DASH, v.status, *_trials(v))
        for v in ordered
    )
    return Table(PAPER_COLUMNS, rows)
