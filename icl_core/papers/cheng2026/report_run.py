"""Build a run's report from the results store: every figure comes from the stored trials."""

from __future__ import annotations

import dataclasses
import platform
import sys
from collections.abc import Callable
from pathlib import Path

from icl_core.models.loading import load_model
from icl_core.papers.cheng2026 import verdicts as V
from icl_core.papers.cheng2026.attribution import COMPARISON
from icl_core.papers.cheng2026.claims import CLAIMS, PAIR_CLAIMS, PER_MODEL_CLAIMS, family_inputs
from icl_core.papers.cheng2026.profiles import Profile
from icl_core.papers.cheng2026.suite import ModelSuite
from icl_core.records import aggregate
from icl_core.store import ResultsStore, code_version
from icl_core.store.evidence import evidence_rows, evidence_totals


def environment(profile: Profile, suites: list[ModelSuite], extra: dict) -> dict:
    import torch
    import transformers

    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "icl_core_code_version": code_version(),
        "profile": profile.as_dict(),
        "seed": profile.seed,
        "threads": torch.get_num_threads(),
        "models": {s.model: s.lm.info.as_dict() for s in suites},
        **extra,
    }


UNITS_FILE = "units.txt"  # the keys of the stored units a report was built from, one a line


def build_report(
    out: Path,
    models: list[str],
    profile: Profile,
    protocols: list[str],
    device: str = "auto",
    dtype: str = "auto",
    extra: dict | None = None,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Recompute (from the store: hits only after a run) every experiment and verdict and
    write the report folder. Experiments missing from the store are computed; `progress`
    receives a line per unit of work (stored or computed). The folder also names the stored
    units it rests on (UNITS_FILE, for `icl-claims store export --units`) and their compute
    time (environment "evidence", tables/evidence.csv)."""
    from icl_core.papers.cheng2026.headline import headline_figures
    from icl_core.report import write_report

    store = ResultsStore()
    suites, verdicts, records, cells, probes, best_layers, figures = [], [], [], [], [], [], []
    for name in models:
        lm = load_model(name, device=device, dtype=dtype)
        for protocol in protocols:
            s = ModelSuite(lm, profile, protocol, store, progress)
            suites.append(s)
            per_claim = {c: s.verdict(c) for c in PER_MODEL_CLAIMS}
            verdicts += per_claim.values()
            if len(s.sweep_pairs) > 1:  # and each sweep pair's own verdict
                verdicts += [dataclasses.replace(s.verdict(c, pair),
                                                 claim=f"{c}[{V.pair_name(pair)}]")
                             for c in PAIR_CLAIMS for pair in s.sweep_pairs]  # fmt: skip
            rec = s.records()
            records += rec
            patching = [r for r in rec if r.experiment != "tracing"]
            cells += s.cells(patching)
            cells += aggregate([r for r in rec if r.experiment == "tracing"])
            probes += [{**r, "protocol": protocol} for r in s.probes]
            figures += headline_figures(s)
            c3 = per_claim["C3"].details
            best_layers.append({"model": s.model, "protocol": protocol, "best_layer": s.best_layer,
                                "n_layers": s.n_layers, "depth": s.best_layer / s.n_layers,
                                "band_layer": c3.get("band_layer"),
                                "c3_status": per_claim["C3"].status})  # fmt: skip
    for protocol in protocols:
        per_model = family_inputs([s for s in suites if s.protocol == protocol])
        for family in sorted({f for f, _, _ in per_model.values()}):
            verdicts.append(CLAIMS["C4"].decide_family(per_model, family, protocol))
    keys = list(store.read_keys)  # the units read: one list for the evidence and units.txt
    evidence = evidence_rows(store, keys)
    env = environment(profile, suites, {**(extra or {}), "evidence": evidence_totals(evidence)})
    report = write_report(out, records, cells, verdicts, env,
                          extra_tables={"probes": probes, "best_layers": best_layers,
                                        "headline_figures": figures, "evidence": evidence},
                          sections=(COMPARISON,))  # fmt: skip
    (out / UNITS_FILE).write_text("".join(f"{key}\n" for key in keys))
    return report
