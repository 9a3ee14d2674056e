"""`icl-claims store info|prune|export|import`: what the results store holds, removing what no
current key can reach (entries keyed the old way, of older result versions, or unreadable), and
carrying finished units to another machine or session (`icl_core.store.bundle`)."""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter, defaultdict
from pathlib import Path

from icl_core.errors import ICLClaimsError
from icl_core.store import EntryInfo, ResultsStore
from icl_core.store.bundle import export_bundle, import_bundle
from icl_core.store.evidence import Cost

_KEY = re.compile(r"[0-9a-f]{64}")
STATUS_TEXT = {
    "current": "current",
    "stale_version": "ignored (older result versions)",
    "old_key": "ignored (keyed the old way)",
    "unreadable": "ignored (unreadable or another format)",
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("store", help="show or prune the results store")
    ssub = p.add_subparsers(dest="store_command", required=True, metavar="ACTION")
    info = ssub.add_parser("info", help="stored units by model, dtype, device and versions")
    info.add_argument("--json", action="store_true", help="machine-readable")
    info.set_defaults(func=_info)
    prune = ssub.add_parser("prune", help="remove units no current key can reach (dry run)")
    prune.add_argument("--yes", action="store_true", help="remove them (default: only list)")
    prune.set_defaults(func=_prune)
    export = ssub.add_parser("export", help="write the current units to a bundle file")
    export.add_argument("bundle", type=Path, help="the file to write (.tar.gz)")
    export.add_argument("--models", nargs="+", metavar="NAME", default=(),
                        help="only these models' units (default: all)")  # fmt: skip
    export.add_argument("--units", type=Path, metavar="FILE",
                        help="only the units whose keys FILE lists, one a line (a report's "
                             "units.txt: the units it was built from)")  # fmt: skip
    export.set_defaults(func=_export)
    import_ = ssub.add_parser("import", help="add a bundle's units absent from the store")
    import_.add_argument("bundle", type=Path, help="a file written by `store export`")
    import_.set_defaults(func=_import)
    for action in (info, prune, export, import_):
        action.add_argument("--root", type=Path, default=None,
                            help="store folder (default: the cache's results folder)")  # fmt: skip


def _group(entry: EntryInfo) -> tuple[str, str, str, str, str]:
    meta = entry.meta or {}
    env = meta.get("environment") or {}
    return (entry.status, str(meta.get("model", "?")), str(env.get("dtype", "?")),
            str(env.get("device", "?")), str(meta.get("versions", "?")))  # fmt: skip


def _mib(n_bytes: int) -> str:
    return f"{n_bytes / 2**20:.1f} MiB"


def _info(args: argparse.Namespace) -> int:
    store = ResultsStore(args.root)
    costs: dict[tuple[str, ...], Cost] = defaultdict(Cost)
    sizes: Counter = Counter()
    for entry in store.entries():
        group = _group(entry)
        costs[group].add(entry.meta)
        sizes[group] += entry.size
    order = sorted(costs, key=lambda g: (list(STATUS_TEXT).index(g[0]), g[1:]))
    groups = [dict(zip(("status", "model", "dtype", "device", "versions"), g, strict=True),
                   **costs[g].as_dict(), bytes=sizes[g])
              for g in order]  # fmt: skip
    if args.json:
        print(json.dumps({"root": str(store.root), "groups": groups}, indent=2))
        return 0
    total = sum(g["units"] for g in groups)
    print(f"results store {store.root}: {total} units, {_mib(sum(sizes.values()))}")
    if groups:
        print(f"{'model':28} {'dtype':9} {'device':24} {'versions':36} {'units':>6} {'size':>10} "
              f"{'compute':>10}")  # fmt: skip
    for g in groups:
        status = "" if g["status"] == "current" else f"  {STATUS_TEXT[g['status']]}"
        untimed = g["units"] - g["timed_units"] if g["status"] == "current" else 0
        status = (f"  ({untimed} untimed)" if untimed else "") + status
        print(f"{g['model']:28} {g['dtype']:9} {g['device']:24} {g['versions']:36} "
              f"{g['units']:>6} {_mib(g['bytes']):>10} "
              f"{g['compute_seconds'] / 60:>6.1f} min{status}")  # fmt: skip
    return 0


def _prune(args: argparse.Namespace) -> int:
    store = ResultsStore(args.root)
    doomed = [e for e in store.entries() if e.status != "current"]
    by_status = Counter(e.status for e in doomed)
    size = _mib(sum(e.size for e in doomed))
    for status, n in sorted(by_status.items()):
        print(f"{n:6} {STATUS_TEXT[status]}")
    if not args.yes:
        print(f"would remove {len(doomed)} units ({size}) from {store.root}; "
              f"run `icl-claims store prune --yes` to remove them")  # fmt: skip
        return 0
    removed = sum(store.discard(e) for e in doomed)
    print(f"removed {removed} units ({size}) from {store.root}")
    return 0


def _export(args: argparse.Namespace) -> int:
    store = ResultsStore(args.root)
    keys = None if args.units is None else _unit_keys(args.units)
    n = export_bundle(store, args.bundle, args.models, keys)
    print(f"wrote {n} current units of {store.root} to {args.bundle} "
          f"({_mib(args.bundle.stat().st_size)})")  # fmt: skip
    return 0


def _unit_keys(path: Path) -> list[str]:
    """The distinct keys `path` lists, one a line (blank lines skipped), in file order;
    ICLClaimsError naming the file and line of anything that is not a key, or an empty file."""
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise ICLClaimsError(f"--units {path}: cannot read it ({exc})") from None
    keys: dict[str, None] = {}
    for number, key in enumerate((line.strip() for line in lines), 1):
        if not key:
            continue
        if not _KEY.fullmatch(key):
            raise ICLClaimsError(f"--units {path}, line {number}: {key[:80]!r} is not a unit key "
                                 "(64 lowercase hex digits, one a line)")  # fmt: skip
        keys[key] = None
    if not keys:
        raise ICLClaimsError(f"--units {path}: lists no unit key (one a line); nothing to export")
    return list(keys)


def _import(args: argparse.Namespace) -> int:
    store = ResultsStore(args.root)
    counts = import_bundle(store, args.bundle)
    print(f"{args.bundle} -> {store.root}: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    return 0
