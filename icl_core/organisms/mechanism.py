"""Direct checks of an organism's planted mechanism, measured before it serves as a control.

- `competence`: clean greedy accuracy per trained task with 5 demos and with 1.
- `attention_to_demos`: mean attention mass (over layers, heads and every position after the
  planted slot) that the query pays to the demo tokens other than the slot (BOS excluded).
- `slot_ablation`: accuracy when the slot's residual stream is replaced, at every layer, by its
  mean over prompts of all trained tasks (the slot then carries no task): the planted slot of a
  localized organism is necessary; a distributed organism should barely notice.
- `patch_transfer`: the suite's own patching (`run_patching`, CHECK_PAIR, another query in
  the source) at the planted slot and at all_demo, per layer: the slot's patch transfers the
  task where the mechanism is localized.
Prompts use seed roles of their own ("organism-check:..."), disjoint from every claim's trials.
"""

from __future__ import annotations

import torch

from icl_core.experiments.competence import task_accuracy
from icl_core.experiments.patching import PatchingConfig, run_patching
from icl_core.interventions import RowEdit, capture_residual, edit_residual
from icl_core.models.loading import LoadedModel
from icl_core.organisms.training_data import ORGANISM_TASKS, PLANTED_SLOT
from icl_core.prompts import build_layout, render
from icl_core.stats import wilson_interval
from icl_core.tasks import derive_seed, sample_example

SEED = 18  # issue 18
CHECK_PAIR = ("uppercase", "repeat_word")  # patch_transfer's pair: cheng2026's headline (tested)
N_PROMPTS = 40  # per task, for every check


def _prompts(task: str, n: int):
    return [sample_example(task, 5, derive_seed(SEED, f"organism-check:{task}:5:{i}"))
            for i in range(n)]  # fmt: skip


def competence(lm: LoadedModel, n: int = N_PROMPTS) -> dict[str, dict[str, float]]:
    """task -> {"k5": accuracy with 5 demos, "k1": with 1 demo} (greedy, strict)."""
    return {t: {f"k{k}": task_accuracy(lm, t, n, derive_seed(SEED, f"k{k}"), k=k)["accuracy"]
                for k in (5, 1)} for t in ORGANISM_TASKS}  # fmt: skip


def _layouts(lm: LoadedModel, n: int):
    return [build_layout(render(ex), lm.tokenizer) for t in ORGANISM_TASKS for ex in _prompts(t, n)]


def attention_to_demos(lm: LoadedModel, n: int = 10) -> float:
    """Mean attention mass from the positions after the planted slot to the demo tokens
    before it (BOS and the slot excluded), over layers, heads and those positions."""
    model = lm.model
    previous = model.config._attn_implementation
    model.set_attn_implementation("eager")
    try:
        masses = []
        for layout in _layouts(lm, n):
            slot = layout.position_set(PLANTED_SLOT)[0]
            with torch.no_grad():
                out = model(torch.tensor([layout.input_ids]), output_attentions=True)
            for a in out.attentions:  # [1, heads, T, T]
                masses.append(a[0, :, slot + 1 :, 1:slot].sum(-1).mean().item())
        return sum(masses) / len(masses)
    finally:
        model.set_attn_implementation(previous)


def slot_ablation(lm: LoadedModel, n: int = N_PROMPTS) -> dict[str, float]:
    """{"clean": accuracy, "ablated": accuracy with the slot mean-ablated at every layer} over
    `n` prompts per trained task (next-token argmax of the first answer token and the rest,
    teacher-forced: correct iff every answer token is the argmax)."""
    model, layers = lm.model, range(lm.info.n_layers)
    layouts = _layouts(lm, n)
    slots = [lay.position_set(PLANTED_SLOT)[0] for lay in layouts]
    states: dict[int, list[torch.Tensor]] = {layer: [] for layer in layers}
    for layout, slot in zip(layouts, slots, strict=True):
        with capture_residual(model) as cap, torch.no_grad():
            model(torch.tensor([layout.input_ids]))
        for layer in layers:
            states[layer].append(cap[layer][0, slot])
    mean = {layer: torch.stack(v).mean(0, keepdim=True) for layer, v in states.items()}
    result = {}
    for name in ("clean", "ablated"):
        correct = 0
        for layout, slot in zip(layouts, slots, strict=True):
            answer = lm.tokenizer(layout.prompt.text + " " + layout.prompt.example.answer)
            ids = answer["input_ids"]
            n_prompt = len(layout.input_ids)
            edits = {layer: [RowEdit(0, (slot,), mean[layer])] for layer in layers}
            with edit_residual(model, edits if name == "ablated" else {}), torch.no_grad():
                logits = model(torch.tensor([ids])).logits[0]
            predicted = logits[n_prompt - 1 : len(ids) - 1].argmax(-1).tolist()
            correct += predicted == ids[n_prompt:]
        result[name] = correct / len(layouts)
    return result


def patch_transfer(lm: LoadedModel, n: int = 20) -> dict[str, list[dict]]:
    """position set -> per layer {layer, k, n, rate, ci_low, ci_high} of task transfer when
    patching CHECK_PAIR's source states (counted trials only)."""
    cfg = PatchingConfig("organism_check", (CHECK_PAIR,), (PLANTED_SLOT, "all_demo"),
                         n_trials=n, seed=SEED, skip_source_wrong=True)  # fmt: skip
    records = run_patching(lm, cfg)
    out: dict[str, list[dict]] = {}
    for pset in cfg.position_sets:
        rows = []
        for layer in range(lm.info.n_layers):
            counted = [r for r in records if r.position_set == pset and r.layer == layer
                       and r.outcome is not None]  # fmt: skip
            k = sum(r.outcome == "transfer" for r in counted)
            n_counted = len(counted)
            lo, hi = wilson_interval(k, n_counted) if n_counted else (None, None)
            rate = k / n_counted if n_counted else None
            rows.append(dict(layer=layer, k=k, n=n_counted, rate=rate, ci_low=lo, ci_high=hi))
        out[pset] = rows
    return out
