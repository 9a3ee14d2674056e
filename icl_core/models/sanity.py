"""A quick check that real (not random) weights were loaded: 5-shot uppercase accuracy."""

from __future__ import annotations

import random

import torch

from icl_core.models.loading import LoadedModel
from icl_core.tasks.task import first_line


def uppercase_prompt(demos: list[str], query: str) -> str:
    """The paper's template: `Input: x` / `Output: y` / blank line, then the open query."""
    from icl_core.prompts import render
    from icl_core.tasks import ICLExample

    example = ICLExample("uppercase", tuple((w, w.upper()) for w in demos), query, query.upper())
    return render(example).text


@torch.inference_mode()
def uppercase_accuracy(
    lm: LoadedModel, words: list[str], n: int = 20, k: int = 5, seed: int = 0
) -> tuple[int, int]:
    """(correct, n): greedy answers to n 5-shot uppercase prompts over `words` (demo and query
    words disjoint within a prompt). Correct = first line of the output, stripped, equals
    the query upper-cased."""
    rng = random.Random(seed)
    correct = 0
    for _ in range(n):
        chosen = rng.sample(words, k + 1)
        enc = lm.tokenizer(uppercase_prompt(chosen[:k], chosen[k]), return_tensors="pt")
        enc = enc.to(lm.model.device)
        out = lm.model.generate(**enc, max_new_tokens=8, do_sample=False,
                                pad_token_id=lm.tokenizer.pad_token_id)  # fmt: skip
        text = lm.tokenizer.decode(out[0, enc["input_ids"].shape[1] :], skip_special_tokens=True)
        correct += first_line(text) == chosen[k].upper()
    return correct, n
