"""Build the organisms (fixed seeds, fixed thread counts): the shared training phase once, on
`SHARED_PHASE_THREADS` torch threads (`training.train_shared`; organisms with equal shared configs
share it), then each organism's mechanism phase in its own process on one thread; each is saved
as a safetensors folder with its tokenizer, checked (`mechanism`) and described in
`organism.json` (config, figures, checks, digest)."""

from __future__ import annotations

import json
import multiprocessing
import random
import time
from collections.abc import Sequence
from pathlib import Path

import torch

from icl_core.errors import UnknownNameError
from icl_core.organisms import FIGURES_FILE, ORGANISMS
from icl_core.organisms.training import (
    TrainingState,
    build_model,
    shared_config,
    train,
    train_shared,
)
from icl_core.organisms.vocabulary import build_tokenizer

# The shared phase runs alone, so it uses both cores of the project's 2-core machine (1.5x
# faster per step than one thread, measured); a fixed count, since the weights depend on it.
SHARED_PHASE_THREADS = 2


def _save_state(state: TrainingState, path: Path) -> None:
    torch.save({"model": state.model.state_dict(), "optimizer": state.optimizer.state_dict(),
                "rng": state.rng.getstate(), "figures": state.figures}, path)  # fmt: skip


def _load_state(cfg, tokenizer, path: Path) -> TrainingState:
    saved = torch.load(path, weights_only=False)  # written by this build, a moment ago
    model = build_model(cfg, tokenizer).train()
    model.load_state_dict(saved["model"])
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.01)
    opt.load_state_dict(saved["optimizer"])
    rng = random.Random()
    rng.setstate(saved["rng"])
    return TrainingState(model, opt, rng, saved["figures"])


def _build_one(name: str, out: str, shared_path: str, extra: list[tuple[str, str]]) -> dict:
    torch.set_num_threads(1)
    from icl_core.models.loading import load_model
    from icl_core.organisms import mechanism

    cfg = ORGANISMS[name]
    folder = Path(out) / name
    tokenizer = build_tokenizer(extra)
    shared = _load_state(cfg, tokenizer, Path(shared_path))
    model, figures = train(cfg, tokenizer, progress=lambda m: print(f"[{name}] {m}", flush=True),
                           shared=shared)  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    start = time.perf_counter()
    lm = load_model(str(folder), device="cpu", dtype="float32")
    checks = {
        "competence": mechanism.competence(lm),
        "attention_to_demos": round(mechanism.attention_to_demos(lm), 4),
        "slot_ablation": mechanism.slot_ablation(lm),
        "patch_transfer": mechanism.patch_transfer(lm),
    }
    checks["check_seconds"] = round(time.perf_counter() - start, 1)
    record = {"name": name, "config": cfg.as_dict(), "training": figures, "checks": checks,
              "weights_sha256": lm.info.weights_sha256}  # fmt: skip
    (folder / FIGURES_FILE).write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    return record


def build_organisms(out: Path, names: Sequence[str] | None = None,
                    extra: Sequence[tuple[str, str]] = ()) -> list[dict]:  # fmt: skip
    """Train, save and check `names` (default: every organism) under `out`/<name>, in parallel
    processes; returns their `organism.json` records. `extra`: (input, output) pairs the
    tokenizer covers beyond the registry's tasks (`vocabulary.build_tokenizer`)."""
    names = list(names or ORGANISMS)
    for name in names:
        if name not in ORGANISMS:
            raise UnknownNameError("organism", name, ORGANISMS)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(SHARED_PHASE_THREADS)
    extra = list(extra)
    tokenizer = build_tokenizer(extra)
    jobs = []
    groups: dict = {}
    for n in names:  # organisms with equal shared phases share one run of it
        groups.setdefault(shared_config(ORGANISMS[n]), []).append(n)
    for members in groups.values():
        path = out / f"shared-{len(jobs)}.pt"
        state = train_shared(ORGANISMS[members[0]], tokenizer,
                             lambda m: print(f"[shared] {m}", flush=True))  # fmt: skip
        _save_state(state, path)
        jobs += [(n, str(out), str(path), extra) for n in members]
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(len(jobs)) as pool:
        records = pool.starmap(_build_one, jobs)
    for path in {job[2] for job in jobs}:
        Path(path).unlink()
    return records
