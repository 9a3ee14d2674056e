"""The states claim C6's probes read: :func:`collect_states` runs one clean prefill per prompt and
keeps, for every layer and every named single position, the residual stream at the output of that
decoder block (a :class:`StateBank`).

Prompts come from an example source (`icl_core.tasks.sources`): ``SAMPLED_DEMOS`` (rigorous:
demos sampled per prompt), or a paper's own. Under fixed demos (the paper protocol's) every
prompt of a task shares the text up to the query, so a causal model's states at every position
before the query (``last_demo_token``, ``demo<i>_output_last``, ``last_separator``) are the same
vector for all prompts of a task: a probe there is trivially perfect, even on a random-weight
model (SPEC 2.1, flaw 1). Token positions always come from the tokenizer-offset layout
(:func:`icl_core.prompts.build_layout`).

Exclusions (counted by reason, never silent): ``layout_error`` (a token straddles two roles or
another :class:`LayoutError`), ``too_long`` (the prompt exceeds the model's context). Non-finite
activations raise (``InterventionError`` from the capture).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from icl_core.errors import InvalidChoiceError, LayoutError
from icl_core.interventions import check_layers
from icl_core.models.loading import LoadedModel
from icl_core.prompts import build_layout, render
from icl_core.replay import clean_prefill
from icl_core.scoring import layout_exclusion
from icl_core.tasks import resolve_task
from icl_core.tasks.sources import SAMPLED_DEMOS, ExampleSource, check_source

__all__ = ["DEFAULT_POSITIONS", "EXCLUSION_REASONS", "StateBank", "collect_states"]

EXCLUSION_REASONS = ("layout_error", "too_long")
DEFAULT_POSITIONS = ("last_demo_token", "query_last", "demo0_output_last")


@dataclass
class StateBank:
    """Residual states of many prompts, one row per kept prompt.

    ``X[(layer, position)]``: float32 array [n_kept, hidden], row r = prompt r. ``y[r]``: index of
    prompt r's task in ``tasks``; ``prompt_ids[r]`` = ``"<task>:<i>"``; ``texts[r]`` = the prompt
    text (identical texts are one prompt for the split). ``excluded``: reason -> count of prompts
    dropped before any state was kept (every reason of EXCLUSION_REASONS present, 0 if none).
    """

    model: str
    protocol: str
    tasks: tuple[str, ...]
    n_layers: int
    layers: tuple[int, ...]
    positions: tuple[str, ...]
    X: dict[tuple[int, str], np.ndarray]
    y: np.ndarray
    prompt_ids: tuple[str, ...]
    texts: tuple[str, ...]
    excluded: dict[str, int] = field(default_factory=dict)

    @property
    def n_kept(self) -> int:
        return int(self.y.shape[0])


def collect_states(
    lm: LoadedModel,
    tasks: Sequence[str],
    n_prompts: int,
    positions: Sequence[str] = DEFAULT_POSITIONS,
    source: ExampleSource = SAMPLED_DEMOS,
    k: int = 5,
    seed: int = 0,
    template: str = "paper",
    layers: Sequence[int] | None = None,
    start: int = 0,
) -> StateBank:
    """One clean prefill per prompt (prompts ``start`` .. ``start + n_prompts - 1`` of each
    task); keep the state at every layer of ``layers`` (None = all) and every named single
    position of ``positions``.

    Raises UnknownNameError for an unknown task or position name, InvalidChoiceError for a
    `source` that is not an ExampleSource, a position name that is a set (not one position),
    n_prompts < 1 or fewer than two tasks, InterventionError for a layer out of range.
    """
    source = check_source(source)
    tasks = tuple(tasks)
    for t in tasks:
        resolve_task(t)
    if len(tasks) < 2 or len(set(tasks)) != len(tasks):
        raise InvalidChoiceError(f"need at least two distinct tasks, got {list(tasks)}")
    if n_prompts < 1:
        raise InvalidChoiceError(f"n_prompts must be >= 1, got {n_prompts}")
    positions = tuple(positions)
    if not positions:
        raise InvalidChoiceError("no positions given")
    n_layers = lm.info.n_layers
    layers = tuple(range(n_layers)) if layers is None else tuple(layers)
    check_layers(lm.model, layers)

    rows: dict[tuple[int, str], list[np.ndarray]] = {(L, p): [] for L in layers for p in positions}
    y: list[int] = []
    ids: list[str] = []
    texts: list[str] = []
    excluded = dict.fromkeys(EXCLUSION_REASONS, 0)
    for ti, task in enumerate(tasks):
        for i in range(start, start + n_prompts):
            prompt = render(source.example(task, i, k, seed), template)
            try:
                layout = build_layout(prompt, lm.tokenizer)
                run = clean_prefill(lm.model, layout.input_ids)
            except LayoutError as exc:
                excluded[layout_exclusion(exc)] += 1
                continue
            index = []
            for p in positions:
                pos = layout.position_set(p)
                if len(pos) != 1:
                    raise InvalidChoiceError(
                        f"position {p!r} names {len(pos)} tokens; a probe needs a single position"
                    )
                index.append(pos[0])
            idx = torch.tensor(index, dtype=torch.long)
            for L in layers:
                vecs = run.states[L][idx.to(run.states[L].device)].float().cpu().numpy()
                for j, p in enumerate(positions):
                    rows[(L, p)].append(vecs[j])
            y.append(ti)
            ids.append(f"{task}:{i}")
            texts.append(prompt.text)
    hidden = lm.info.hidden
    X = {
        key: (np.stack(v).astype(np.float32) if v else np.zeros((0, hidden), np.float32))
        for key, v in rows.items()
    }
    return StateBank(
        model=lm.info.name,
        protocol=source.name,
        tasks=tasks,
        n_layers=n_layers,
        layers=layers,
        positions=positions,
        X=X,
        y=np.asarray(y, dtype=np.int64),
        prompt_ids=tuple(ids),
        texts=tuple(texts),
        excluded=excluded,
    )
