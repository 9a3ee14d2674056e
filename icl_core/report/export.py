"""Machine-readable outputs: results.csv/json, trials.jsonl, verdicts.json, environment.json.

All JSON is strict (NaN/inf -> null, numpy scalars -> Python numbers, other objects -> str),
UTF-8, with '\\n' line endings, so the same input always gives the same bytes.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from pathlib import Path

from icl_core.records import Cell, TrialRecord, Verdict
from icl_core.report.naming import unique_slug
from icl_core.report.tables import cell_rows, union_columns, verdict_matrix


def jsonable(obj: object) -> object:
    """`obj` made strictly JSON-serialisable: non-finite floats -> None, numpy scalars/arrays
    -> Python values, tuples/sets -> lists (sets sorted by str), unknown objects -> str."""
    if obj is None or isinstance(obj, bool | int | str):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, set | frozenset):
        return [jsonable(v) for v in sorted(obj, key=str)]
    if hasattr(obj, "tolist"):  # numpy scalar or array
        return jsonable(obj.tolist())
    return str(obj)


def dumps(obj: object, indent: int | None = 2) -> str:
    """Strict, deterministic JSON text of `obj` (key order as given)."""
    return json.dumps(jsonable(obj), indent=indent, ensure_ascii=False, allow_nan=False)


def write_text(path: Path, text: str) -> Path:
    """Write `text` as UTF-8 with '\\n' newlines; returns `path`."""
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    return path


def csv_text(columns: Sequence[str], rows: Sequence[dict]) -> str:
    """CSV of `rows` over `columns`: floats in repr form, NaN/None as an empty field."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        out = []
        for c in columns:
            v = row.get(c)
            if v is None or (isinstance(v, float) and not math.isfinite(v)):
                out.append("")
            elif isinstance(v, dict | list | tuple):
                out.append(dumps(v, indent=None))
            else:
                out.append(v)
        writer.writerow(out)
    return buf.getvalue()


def write_results(out_dir: Path, cells: Sequence[Cell]) -> tuple[Path, Path]:
    """results.csv and results.json: one row per cell, the same columns in both (Cell fields,
    then `excluded_<reason>` columns, missing = 0; NaN rate -> empty / null)."""
    columns, rows = cell_rows(cells)
    csv_path = write_text(out_dir / "results.csv", csv_text(columns, rows))
    json_path = write_text(out_dir / "results.json", dumps(rows) + "\n")
    return csv_path, json_path


def write_trials(out_dir: Path, records: Sequence[TrialRecord]) -> Path:
    """trials.jsonl: one JSON object (TrialRecord.as_dict()) per line, in input order."""
    lines = [dumps(r.as_dict(), indent=None) + "\n" for r in records]
    return write_text(out_dir / "trials.jsonl", "".join(lines))


def write_verdicts(out_dir: Path, verdicts: Sequence[Verdict]) -> Path:
    """verdicts.json: {"verdicts": [Verdict.as_dict()...], "table": {claim: {"<model>
    (<protocol>)": status}}}."""
    doc = {"verdicts": [v.as_dict() for v in verdicts], "table": verdict_matrix(verdicts)}
    return write_text(out_dir / "verdicts.json", dumps(doc) + "\n")


def write_environment(out_dir: Path, environment: dict) -> Path:
    """environment.json: the environment dict as given (key order kept)."""
    return write_text(out_dir / "environment.json", dumps(environment) + "\n")


def write_extra_tables(out_dir: Path, extra_tables: dict[str, list[dict]]) -> dict[str, Path]:
    """tables/<name>.csv for each extra table (columns: union of keys). Returns name -> path."""
    if not extra_tables:
        return {}
    folder = out_dir / "tables"
    folder.mkdir(parents=True, exist_ok=True)
    used: set[str] = set()
    paths = {}
    for name, rows in extra_tables.items():
        path = folder / f"{unique_slug(name, used)}.csv"
        paths[name] = write_text(path, csv_text(union_columns(rows), rows))
    return paths
