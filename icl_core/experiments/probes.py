"""Claim C6 ("probing is causally blind"): linear probes decode the task from residual states.

Pipeline: :func:`icl_core.experiments.probe_states.collect_states` keeps the residual states of
each prompt (its example sources and exclusions are described there); the kept prompts are split
into train and test halves by :func:`split_prompts` (by prompt, stratified by task, seeded); two
probes are fitted on the train half and scored on the held-out half only:

- ``centroid``: the paper's nearest-centroid probe. Class means of the training rows; a test row
  is assigned the class whose mean is nearest in **Euclidean** distance (not cosine).
- ``logreg``: multinomial logistic regression (scikit-learn, L2, C=1) on features standardized
  with the training half's mean and std.

A task left with fewer than two distinct kept prompts raises (nothing to hold out).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np

from icl_core.errors import InvalidChoiceError, UnknownNameError
from icl_core.experiments.probe_states import (
    DEFAULT_POSITIONS,
    EXCLUSION_REASONS,
    StateBank,
    collect_states,
)
from icl_core.models.loading import LoadedModel
from icl_core.stats import depth, wilson_interval
from icl_core.tasks import PAPER_TASKS, derive_seed
from icl_core.tasks.sources import SAMPLED_DEMOS, ExampleSource

__all__ = [
    "PROBES",
    "evaluate_bank",
    "fit_bank_probes",
    "fit_probe",
    "predict_probe",
    "probe_correct",
    "run_probes",
    "score_fresh_prompts",
    "split_prompts",
]

PROBES = ("centroid", "logreg")


def split_prompts(
    y: Sequence[int] | np.ndarray, groups: Sequence[str] | None = None, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A seeded 50/50 split of PROMPTS, stratified by class: (train rows, test rows), ascending.

    ``groups[r]`` names the prompt of row r (default: every row its own prompt); rows with the
    same group always fall on the same side, so a prompt repeated (e.g. the paper protocol's
    ``i % 50`` past 50 prompts) never sits in both halves. Per class, its distinct groups are
    shuffled and the first ``n // 2`` go to test, the rest to train (train gets the odd one).
    A row's class is that of its group's first row. Raises InvalidChoiceError if a class has
    fewer than two distinct groups.
    """
    y = np.asarray(y)
    groups = [str(r) for r in range(len(y))] if groups is None else list(groups)
    if len(groups) != len(y):
        raise InvalidChoiceError(f"{len(groups)} groups for {len(y)} rows")
    first: dict[str, int] = {}
    for r, g in enumerate(groups):
        first.setdefault(g, r)
    rng = np.random.default_rng(derive_seed(seed, "probe-split"))
    test_groups: set[str] = set()
    for c in sorted(set(y.tolist())):
        members = [g for g, r in first.items() if y[r] == c]
        if len(members) < 2:
            raise InvalidChoiceError(
                f"class {c} has {len(members)} distinct prompt(s): a held-out split needs >= 2"
            )
        order = rng.permutation(len(members))
        test_groups.update(members[j] for j in order[: len(members) // 2])
    is_test = np.array([g in test_groups for g in groups], dtype=bool)
    return np.flatnonzero(~is_test), np.flatnonzero(is_test)


def fit_probe(probe: str, X_train: np.ndarray, y_train: np.ndarray) -> dict:
    """The fitted parameters of `probe` (JSON-ready lists; float64 arithmetic):
    - ``centroid``: the class means (nearest centroid, **Euclidean** distance, not cosine);
    - ``logreg``: a standardized multinomial logistic regression (L2, C=1, lbfgs,
      max_iter=5000, random_state=0); a feature constant in training is left unscaled
      (scikit-learn's StandardScaler convention).
    Shapes: X_train [n, d], y_train [n]. Predict with :func:`predict_probe`."""
    if probe not in PROBES:
        raise UnknownNameError("probe", probe, PROBES)
    X_train, y_train = np.asarray(X_train, np.float64), np.asarray(y_train)
    classes = np.unique(y_train)
    if probe == "centroid":
        centroids = np.stack([X_train[y_train == c].mean(axis=0) for c in classes])
        return {"classes": classes.tolist(), "centroids": centroids.tolist()}
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(X_train)
    clf = LogisticRegression(max_iter=5000, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(scaler.transform(X_train), y_train)
    return {"classes": clf.classes_.tolist(), "mean": scaler.mean_.tolist(),
            "scale": scaler.scale_.tolist(), "coef": clf.coef_.tolist(),
            "intercept": clf.intercept_.tolist()}  # fmt: skip


def predict_probe(probe: str, params: dict, X: np.ndarray) -> np.ndarray:
    """Class labels [n] of rows X [n, d] by a probe fitted with :func:`fit_probe`: the nearest
    centroid (ties: the lowest class), or the logistic regression's highest decision score."""
    X = np.asarray(X, np.float64)
    classes = np.asarray(params["classes"])
    if probe == "centroid":
        centroids = np.asarray(params["centroids"], np.float64)
        d2 = ((X[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=-1)
        return classes[np.argmin(d2, axis=1)]
    if probe != "logreg":
        raise UnknownNameError("probe", probe, PROBES)
    Z = (X - np.asarray(params["mean"])) / np.asarray(params["scale"])
    scores = Z @ np.asarray(params["coef"]).T + np.asarray(params["intercept"])
    if scores.shape[1] == 1:  # two classes: one score, positive means the second class
        return classes[(scores[:, 0] > 0).astype(int)]
    return classes[np.argmax(scores, axis=1)]


def _n_correct(probe: str, params: dict, X: np.ndarray, y: np.ndarray) -> int:
    return int((predict_probe(probe, params, X) == np.asarray(y)).sum()) if len(y) else 0


def probe_correct(probe: str, X_train, y_train, X_test, y_test) -> int:
    """Number of test rows that `probe`, fitted on the training rows, classifies correctly."""
    return _n_correct(probe, fit_probe(probe, X_train, y_train), X_test, y_test)


def _excluded_columns(excluded: Mapping[str, int]) -> dict[str, int]:
    reasons = dict.fromkeys(EXCLUSION_REASONS, 0) | dict(excluded)
    return {f"excluded_{r}": int(n) for r, n in sorted(reasons.items())}


def evaluate_bank(
    bank: StateBank,
    seed: int = 0,
    layers: Sequence[int] | None = None,
    positions: Sequence[str] | None = None,
    probes: Sequence[str] = PROBES,
) -> list[dict]:
    """Held-out probe accuracy for each (layer, position, probe) of ``bank``: one row per cell.

    One split (:func:`split_prompts` over the bank's prompt texts, ``seed``) is shared by every
    cell. Row keys: model, protocol, layer, depth, position, probe, k (correct), n (test
    prompts), accuracy, ci_low, ci_high (Wilson 95%), chance (1 / number of tasks), n_train,
    n_tasks, seed, excluded_<reason>. Deterministic for a seed. Raises InvalidChoiceError if a
    task has fewer than two distinct kept prompts.
    """
    for p in probes:
        if p not in PROBES:
            raise UnknownNameError("probe", p, PROBES)
    layers = bank.layers if layers is None else tuple(layers)
    positions = bank.positions if positions is None else tuple(positions)
    for ti, task in enumerate(bank.tasks):
        distinct = len({t for t, c in zip(bank.texts, bank.y.tolist(), strict=True) if c == ti})
        if distinct < 2:
            raise InvalidChoiceError(
                f"task {task!r} has {distinct} distinct kept prompt(s) in the bank; a held-out "
                f"probe needs >= 2 (excluded: {bank.excluded})"
            )
    train, test = split_prompts(bank.y, bank.texts, seed)
    y_train, y_test = bank.y[train], bank.y[test]
    excluded = _excluded_columns(bank.excluded)
    out: list[dict] = []
    for L in layers:
        for p in positions:
            if (L, p) not in bank.X:
                raise InvalidChoiceError(f"the bank holds no states for layer {L}, {p!r}")
            X = bank.X[(L, p)]
            for probe in probes:
                k = probe_correct(probe, X[train], y_train, X[test], y_test)
                n = len(test)
                lo, hi = wilson_interval(k, n)
                out.append(
                    {
                        "model": bank.model,
                        "protocol": bank.protocol,
                        "layer": L,
                        "depth": depth(L, bank.n_layers),
                        "position": p,
                        "probe": probe,
                        "k": k,
                        "n": n,
                        "accuracy": k / n,
                        "ci_low": lo,
                        "ci_high": hi,
                        "chance": 1.0 / len(bank.tasks),
                        "n_train": len(train),
                        "n_tasks": len(bank.tasks),
                        "seed": seed,
                        **excluded,
                    }
                )
    return out


def fit_bank_probes(
    bank: StateBank, layer: int, position: str, seed: int = 0, probes: Sequence[str] = PROBES
) -> dict:
    """The probes of :func:`evaluate_bank` (same split, same ``seed``) fitted at (``layer``,
    ``position``) on the training half, for scoring further prompts (C6's rounds). JSON-ready:
    ``{"params": {probe: params}, "test": {probe: [k, n]}, "train_texts": [...]}``, where
    ``test`` is the probe's count on the bank's own held-out half."""
    train, test = split_prompts(bank.y, bank.texts, seed)
    X, y = bank.X[(layer, position)], bank.y
    params = {p: fit_probe(p, X[train], y[train]) for p in probes}
    test_counts = {p: [_n_correct(p, params[p], X[test], y[test]), len(test)] for p in probes}
    return {"params": params, "test": test_counts,
            "train_texts": sorted({bank.texts[r] for r in train})}  # fmt: skip


def score_fresh_prompts(
    lm: LoadedModel,
    fitted: dict,
    tasks: Sequence[str],
    start: int,
    n_prompts: int,
    layer: int,
    position: str,
    seed: int = 0,
    k: int = 5,
    template: str = "paper",
) -> dict:
    """Held-out accuracy of probes fitted by :func:`fit_bank_probes` on prompts ``start`` ..
    ``start + n_prompts - 1`` of every task (rigorous protocol: each prompt sampled
    independently, so they are fresh draws from the distribution of the held-out half). A
    prompt whose text is a training prompt's is excluded as ``in_training``. Returns
    ``{"correct": {probe: k}, "n": kept prompts, "excluded": {reason: count}}``."""
    bank = collect_states(lm, tasks, n_prompts, (position,), SAMPLED_DEMOS, k, seed, template,
                          (layer,), start)  # fmt: skip
    seen = set(fitted["train_texts"])
    keep = np.array([t not in seen for t in bank.texts], dtype=bool)
    X, y = bank.X[(layer, position)][keep], bank.y[keep]
    correct = {p: _n_correct(p, params, X, y) for p, params in fitted["params"].items()}
    return {"correct": correct, "n": int(keep.sum()),
            "excluded": dict(bank.excluded, in_training=int((~keep).sum()))}  # fmt: skip


def run_probes(
    lm: LoadedModel,
    tasks: Sequence[str] = PAPER_TASKS,
    n_prompts: int = 40,
    positions: Sequence[str] = DEFAULT_POSITIONS,
    layers: Sequence[int] | None = None,
    source: ExampleSource = SAMPLED_DEMOS,
    seed: int = 0,
    k: int = 5,
    template: str = "paper",
    probes: Sequence[str] = PROBES,
) -> list[dict]:
    """C6 experiment: :func:`collect_states` then :func:`evaluate_bank` (see both). ``n_prompts``
    per task, of which about half are held out for testing. Deterministic for a seed."""
    bank = collect_states(lm, tasks, n_prompts, positions, source, k, seed, template, layers)
    return evaluate_bank(bank, seed=seed, probes=probes)
