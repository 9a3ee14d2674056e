"""Claim C7: transfer tracks representation compatibility, not surface similarity.

Two task-by-task similarity matrices, to be correlated (elsewhere, with ``icl_core.stats.pearson``
/ ``spearman`` over the ordered pairs of :func:`pair_similarities`) with the transfer matrix:

- **surface**: the paper's 10 output-format features of each task (:data:`FEATURE_NAMES`),
  computed from a sample of its (input, output) pairs, **z-scored per feature across the tasks
  of the run** (population std; a feature constant over the tasks becomes 0 for all), then the
  cosine between tasks' standardized feature vectors. Without the z-scoring the cosine is
  dominated by the features with the largest scale (character counts).
- **representation**: the mean residual state of each task at one position and layer over
  several prompts (:func:`task_vectors`), **centred by the mean over tasks**, then cosine.
  Raw cosines of residual means are all close to 1 (every task shares a large common component,
  e.g. the template and massive activations), so they carry no information about the pair.

Cosine convention for both: the diagonal is 1; a pair involving an all-zero vector (e.g. a task
equal to the across-task mean) has cosine 0.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence

import numpy as np

from icl_core.errors import InvalidChoiceError
from icl_core.experiments.probe_states import collect_states
from icl_core.models.loading import LoadedModel
from icl_core.tasks import resolve_task
from icl_core.tasks.sources import SAMPLED_DEMOS, ExampleSource, check_source

__all__ = [
    "FEATURE_NAMES",
    "cosine_matrix",
    "pair_similarities",
    "representation_similarity_matrix",
    "standardize",
    "surface_features",
    "surface_similarity_matrix",
    "task_pairs",
    "task_vectors",
]

FEATURE_NAMES: tuple[str, ...] = (
    "avg_out_words",
    "avg_out_chars",
    "avg_in_words",
    "numeric_frac",
    "single_word_frac",
    "has_punct_frac",
    "all_upper_frac",
    "all_lower_frac",
    "identity_frac",
    "len_ratio",
)
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")
_PUNCT = frozenset(string.punctuation)


def surface_features(pairs: Sequence[tuple[str, str]]) -> np.ndarray:
    """The 10 surface features (order of FEATURE_NAMES) of (input, output) pairs: float64 [10].

    Words = whitespace-separated tokens; chars = len(). numeric: the whole output is an integer
    or decimal number; punct: any ASCII punctuation character; all_upper/all_lower: str.isupper /
    str.islower (cased characters all upper/lower, at least one cased); identity: output ==
    input; len_ratio: mean of len(output) / max(len(input), 1). Fractions are in [0, 1].
    Raises InvalidChoiceError for no pairs.
    """
    if not pairs:
        raise InvalidChoiceError("surface_features needs at least one (input, output) pair")
    rows = []
    for x, y in pairs:
        out_words = y.split()
        rows.append(
            (
                len(out_words),
                len(y),
                len(x.split()),
                _NUMBER.fullmatch(y.strip()) is not None,
                len(out_words) == 1,
                any(ch in _PUNCT for ch in y),
                y.isupper(),
                y.islower(),
                y == x,
                len(y) / max(len(x), 1),
            )
        )
    return np.asarray(rows, dtype=np.float64).mean(axis=0)


def task_pairs(
    task: str, n_examples: int = 50, seed: int = 0, source: ExampleSource = SAMPLED_DEMOS
) -> list[tuple[str, str]]:
    """The (input, output) sample a task's surface features are computed from: the first
    ``n_examples`` pairs of ``source`` (`ExampleSource.pairs`; rigorous: drawn without
    replacement from the demo pool)."""
    if n_examples < 1:
        raise InvalidChoiceError(f"n_examples must be >= 1, got {n_examples}")
    return check_source(source).pairs(resolve_task(task).name, n_examples, seed)


def standardize(features: np.ndarray) -> np.ndarray:
    """Z-score each column of ``features`` [n_tasks, n_features] across the rows (population
    std, ddof=0); a column with zero spread becomes all 0."""
    f = np.asarray(features, dtype=np.float64)
    mu, sd = f.mean(axis=0), f.std(axis=0)
    safe = np.where(sd > 0, sd, 1.0)
    return np.where(sd > 0, (f - mu) / safe, 0.0)


def cosine_matrix(vectors: np.ndarray) -> np.ndarray:
    """Cosine similarity between the rows of ``vectors`` [n, d]: symmetric [n, n] float64 with
    unit diagonal; entries involving an all-zero row are 0 (off the diagonal)."""
    v = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(v, axis=1)
    unit = v / np.where(norms > 0, norms, 1.0)[:, None]
    m = np.clip(unit @ unit.T, -1.0, 1.0)
    m = (m + m.T) / 2.0
    np.fill_diagonal(m, 1.0)
    return m


def _check_tasks(tasks: Sequence[str]) -> tuple[str, ...]:
    tasks = tuple(tasks)
    if len(tasks) < 2 or len(set(tasks)) != len(tasks):
        raise InvalidChoiceError(f"need at least two distinct tasks, got {list(tasks)}")
    return tasks


def surface_similarity_matrix(
    tasks: Sequence[str],
    n_examples: int = 50,
    seed: int = 0,
    source: ExampleSource = SAMPLED_DEMOS,
) -> tuple[tuple[str, ...], np.ndarray]:
    """(task names, [n_tasks, n_tasks] cosine of the z-scored surface features) — see the module
    docstring and :func:`task_pairs` for the sample. Deterministic for a seed."""
    tasks = _check_tasks(tasks)
    feats = np.stack([surface_features(task_pairs(t, n_examples, seed, source)) for t in tasks])
    return tasks, cosine_matrix(standardize(feats))


def task_vectors(
    lm: LoadedModel,
    tasks: Sequence[str],
    layer: int,
    n_prompts: int,
    position: str = "last_demo_token",
    seed: int = 0,
    source: ExampleSource = SAMPLED_DEMOS,
    template: str = "paper",
    k: int = 5,
    drop_unkept: bool = False,
) -> dict[str, np.ndarray]:
    """Task -> mean residual state (float64 [hidden]) at the output of block ``layer`` at the
    single position ``position``, over the task's kept prompts among ``n_prompts`` (the prompts
    of :func:`icl_core.experiments.probe_states.collect_states` for the same seed and source).
    A task that keeps no prompt (all excluded by layout on this tokenizer) raises
    InvalidChoiceError, or with ``drop_unkept`` is left out of the result."""
    tasks = _check_tasks(tasks)
    bank = collect_states(
        lm, tasks, n_prompts, (position,), source, k, seed, template, layers=(layer,)
    )
    X = bank.X[(layer, position)]
    out: dict[str, np.ndarray] = {}
    for ti, t in enumerate(tasks):
        rows = X[bank.y == ti]
        if len(rows) == 0 and drop_unkept:
            continue
        if len(rows) == 0:
            raise InvalidChoiceError(
                f"task {t!r}: no prompt kept out of {n_prompts} (excluded: {bank.excluded})"
            )
        out[t] = rows.astype(np.float64).mean(axis=0)
    return out


def representation_similarity_matrix(
    vectors: Mapping[str, np.ndarray],
) -> tuple[tuple[str, ...], np.ndarray]:
    """(task names in ``vectors`` order, [n, n] cosine of the vectors after subtracting their
    mean over tasks). Needs >= 2 tasks with vectors of one shape [hidden]."""
    names = _check_tasks(list(vectors))
    v = np.stack([np.asarray(vectors[t], dtype=np.float64) for t in names])
    if v.ndim != 2:
        raise InvalidChoiceError(f"task vectors must be 1-D of one length, got {v.shape[1:]}")
    return names, cosine_matrix(v - v.mean(axis=0, keepdims=True))


def pair_similarities(
    surface: tuple[Sequence[str], np.ndarray],
    representation: tuple[Sequence[str], np.ndarray],
) -> list[dict]:
    """One row per ordered pair (source != target) of the surface matrix's tasks, in its order:
    source_task, target_task, surface, representation (the matrices are symmetric, so both
    directions carry the same values; n tasks -> n(n-1) rows). Both matrices must cover the
    same task names (matched by name, in any order)."""
    s_names, s_mat = list(surface[0]), np.asarray(surface[1])
    r_names, r_mat = list(representation[0]), np.asarray(representation[1])
    if set(s_names) != set(r_names) or len(s_names) != len(r_names):
        raise InvalidChoiceError(
            f"surface and representation cover different tasks: {s_names} vs {r_names}"
        )
    for names, mat in ((s_names, s_mat), (r_names, r_mat)):
        if mat.shape != (len(names), len(names)):
            raise InvalidChoiceError(f"matrix shape {mat.shape} for {len(names)} tasks")
    r_index = {t: i for i, t in enumerate(r_names)}
    rows = []
    for i, src in enumerate(s_names):
        for j, tgt in enumerate(s_names):
            if i != j:
                rows.append(
                    {
                        "source_task": src,
                        "target_task": tgt,
                        "surface": float(s_mat[i, j]),
                        "representation": float(r_mat[r_index[src], r_index[tgt]]),
                    }
                )
    return rows
