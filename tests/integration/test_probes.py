"""C6 probes: the probes and the prompt split on synthetic data; state collection on tiny models,
including SPEC 2.1 flaw 1 (fixed demos make a demo-position probe trivially perfect)."""

import numpy as np
import pytest

from fixtures.models import tiny_loaded
from icl_core.errors import InterventionError, InvalidChoiceError, LayoutError, UnknownNameError
from icl_core.experiments import probe_states, probes
from icl_core.experiments.probe_states import StateBank, collect_states
from icl_core.experiments.probes import (
    evaluate_bank,
    fit_bank_probes,
    fit_probe,
    predict_probe,
    probe_correct,
    run_probes,
    score_fresh_prompts,
    split_prompts,
)
from icl_core.models.loading import LoadedModel
from icl_core.models.tiny import TINY_ARCHS
from icl_core.papers.cheng2026.protocol.sources import FIXED_DEMOS, example_source
from icl_core.tasks import PAPER_TASKS

FEW_TASKS = ("uppercase", "linear_2x", "sentiment")


@pytest.fixture(scope="module")
def tiny_lm() -> LoadedModel:
    return tiny_loaded("llama")


@pytest.fixture(scope="module")
def banks(tiny_lm):
    """The same random-weight model, all eight tasks, under both protocols."""
    return {p: collect_states(tiny_lm, PAPER_TASKS, 6, source=example_source(p))
            for p in ("paper", "rigorous")}  # fmt: skip


def _synthetic(n_per_class: int, n_classes: int, dim: int, sep: float, seed: int):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(n_classes), n_per_class)
    means = rng.normal(size=(n_classes, dim)) * sep
    return means[y] + rng.normal(size=(len(y), dim)), y


def _bank(X: np.ndarray, y: np.ndarray, texts=None) -> StateBank:
    n_classes = int(y.max()) + 1
    texts = tuple(f"p{r}" for r in range(len(y))) if texts is None else tuple(texts)
    tasks = tuple(f"t{c}" for c in range(n_classes))
    ids = tuple(f"t{c}:{r}" for r, c in enumerate(y))
    X_ = {(1, "last_demo_token"): X.astype(np.float32)}
    return StateBank("synthetic", "rigorous", tasks, 4, (1,), ("last_demo_token",), X_, y, ids,
                     texts, {"layout_error": 0})  # fmt: skip


# --- probes and split on synthetic data --------------------------------------------------------


@pytest.mark.parametrize("probe", probes.PROBES)
def test_separable_classes_are_decoded_perfectly(probe):
    X, y = _synthetic(20, 8, 16, sep=10.0, seed=1)
    train, test = split_prompts(y, seed=0)
    assert probe_correct(probe, X[train], y[train], X[test], y[test]) == len(test)


@pytest.mark.parametrize("probe", probes.PROBES)
def test_random_labels_give_chance(probe):
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(400, 16)), rng.integers(0, 8, size=400)
    train, test = split_prompts(y, seed=0)
    acc = probe_correct(probe, X[train], y[train], X[test], y[test]) / len(test)
    assert acc < 0.25  # chance 0.125; held-out accuracy of noise stays near it


@pytest.mark.parametrize("n_classes", [2, 5])
def test_stored_parameters_predict_as_the_fitted_models(n_classes):
    """The JSON-ready parameters reproduce scikit-learn's own predictions and the direct
    nearest-centroid rule (overlapping classes, so the predictions are not all right)."""
    import json

    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    X, y = _synthetic(30, n_classes, 12, sep=0.7, seed=7)
    X[:, 3] = 1.5  # a constant feature: left unscaled
    train, test = split_prompts(y, seed=0)
    logreg = json.loads(json.dumps(fit_probe("logreg", X[train], y[train])))
    scaler = StandardScaler().fit(X[train])
    clf = LogisticRegression(max_iter=5000, random_state=0).fit(scaler.transform(X[train]),
                                                                y[train])  # fmt: skip
    expected = clf.predict(scaler.transform(X[test]))
    assert np.array_equal(predict_probe("logreg", logreg, X[test]), expected)
    assert 0 < (expected == y[test]).mean() < 1
    centroid = json.loads(json.dumps(fit_probe("centroid", X[train], y[train])))
    means = np.stack([X[train][y[train] == c].mean(0) for c in range(n_classes)])
    nearest = np.argmin(((X[test][:, None] - means[None]) ** 2).sum(-1), axis=1)
    assert np.array_equal(predict_probe("centroid", centroid, X[test]), nearest)


def test_split_is_by_prompt_stratified_and_seeded():
    y = np.repeat(np.arange(3), 7)
    groups = [f"g{r // 2}" for r in range(len(y))]  # rows 2j and 2j+1 are one prompt
    train, test = split_prompts(y, groups, seed=5)
    assert set(train).isdisjoint(test) and sorted([*train, *test]) == list(range(len(y)))
    assert {groups[r] for r in train}.isdisjoint({groups[r] for r in test})
    for c in range(3):
        assert (y[train] == c).any() and (y[test] == c).any()
    again = split_prompts(y, groups, seed=5)
    assert all(np.array_equal(a, b) for a, b in zip((train, test), again, strict=True))
    other = split_prompts(y, groups, seed=6)
    assert not np.array_equal(test, other[1])


def test_split_halves_each_class():
    y = np.repeat(np.arange(4), 10)
    train, test = split_prompts(y, seed=0)
    assert [int((y[test] == c).sum()) for c in range(4)] == [5] * 4


def test_split_needs_two_prompts_per_class():
    with pytest.raises(InvalidChoiceError, match="class 1 has 1 distinct"):
        split_prompts(np.array([0, 0, 1]))
    with pytest.raises(InvalidChoiceError, match="distinct"):  # two rows, but one prompt
        split_prompts(np.array([0, 0, 1, 1]), ["a", "b", "c", "c"])


def test_evaluation_is_held_out_only():
    """A probe that memorizes its training rows scores test rows it never saw: with noise
    features and labels unrelated to them it cannot reach 100%, unlike a train-set score."""
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(80, 200)), np.repeat(np.arange(4), 20)
    rows = evaluate_bank(_bank(X, y), seed=0)
    train, test = split_prompts(y, seed=0)
    assert {r["n"] for r in rows} == {len(test)} and {r["n_train"] for r in rows} == {len(train)}
    assert probe_correct("logreg", X[train], y[train], X[train], y[train]) == len(train)
    assert all(r["accuracy"] < 0.6 for r in rows)


def test_rows_carry_statistics_and_exclusions():
    X, y = _synthetic(10, 4, 8, sep=10.0, seed=4)
    rows = evaluate_bank(_bank(X, y), seed=0)
    assert [(r["probe"], r["layer"], r["position"]) for r in rows] == [
        ("centroid", 1, "last_demo_token"), ("logreg", 1, "last_demo_token")
    ]  # fmt: skip
    for r in rows:
        assert r["k"] == r["n"] == 20 and r["accuracy"] == 1.0
        assert r["ci_low"] < 1.0 == r["ci_high"] and r["chance"] == 0.25
        assert r["depth"] == 0.25 and r["excluded_layout_error"] == 0
        assert r["excluded_too_long"] == 0 and r["model"] == "synthetic"


def test_unknown_probe_is_an_error():
    X, y = _synthetic(4, 2, 4, sep=1.0, seed=0)
    with pytest.raises(UnknownNameError, match="valid probes: centroid, logreg"):
        evaluate_bank(_bank(X, y), probes=("svm",))


# --- state collection on tiny models -----------------------------------------------------------


def test_bank_shapes(banks):
    bank = banks["rigorous"]
    assert bank.n_kept == 48 and bank.excluded == {"layout_error": 0, "too_long": 0}
    assert set(bank.X) == {(L, p) for L in range(4) for p in probe_states.DEFAULT_POSITIONS}
    assert all(x.shape == (48, 32) and x.dtype == np.float32 for x in bank.X.values())
    assert bank.y.tolist() == [t for t in range(8) for _ in range(6)]
    assert bank.prompt_ids[:2] == ("uppercase:0", "uppercase:1")


@pytest.mark.parametrize("arch", TINY_ARCHS)
def test_paper_protocol_gives_identical_demo_states(arch):
    """SPEC 2.1 flaw 1: with the release's fixed demos every prompt of a task shares its text up
    to the query, so states before the query are one vector per task (up to float rounding of
    different sequence lengths, ~1e-8 here), while the query position still varies."""
    bank = collect_states(tiny_loaded(arch), FEW_TASKS, 4, source=FIXED_DEMOS)
    for L in range(4):
        for c in range(len(FEW_TASKS)):
            for pos in ("last_demo_token", "demo0_output_last"):
                rows = bank.X[(L, pos)][bank.y == c]
                np.testing.assert_allclose(rows, np.broadcast_to(rows[0], rows.shape), atol=1e-5)
        query = bank.X[(L, "query_last")][bank.y == 0]
        assert np.abs(query - query[0]).max() > 1e-5  # states ~0.02: random weights


def test_fixed_demos_make_the_probe_trivially_perfect(banks):
    """On a RANDOM-weight model the paper protocol's probe is 100% held out at the last demo
    token (nothing is learned: the rows of a task are one point), while randomized demos give
    distinct rows and an imperfect probe at the same position."""
    paper = evaluate_bank(banks["paper"], positions=["last_demo_token"])
    assert all(r["accuracy"] == 1.0 and r["n"] == 24 for r in paper)
    rigorous = banks["rigorous"]
    X = rigorous.X[(2, "last_demo_token")]
    assert all(np.abs(X[rigorous.y == c] - X[rigorous.y == c][0]).max() > 1e-3 for c in range(8))
    rows = evaluate_bank(rigorous, positions=["last_demo_token"])
    assert all(r["accuracy"] < 1.0 for r in rows)


def test_run_probes_is_deterministic(tiny_lm):
    kw = dict(tasks=FEW_TASKS, n_prompts=4, positions=("last_demo_token",), layers=[1, 3])
    rows = run_probes(tiny_lm, seed=3, **kw)
    assert rows == run_probes(tiny_lm, seed=3, **kw)
    assert [(r["layer"], r["probe"]) for r in rows] == [
        (1, "centroid"), (1, "logreg"), (3, "centroid"), (3, "logreg")
    ]  # fmt: skip
    assert {r["protocol"] for r in rows} == {"rigorous"} and rows[0]["depth"] == 0.25
    assert rows[0]["chance"] == pytest.approx(1 / 3) and rows[0]["n"] == 6


def test_layout_errors_are_excluded_and_counted(tiny_lm, monkeypatch):
    real = probe_states.build_layout
    calls = {"n": 0}

    def flaky(prompt, tokenizer):
        calls["n"] += 1
        if calls["n"] == 2:
            raise LayoutError("token straddles two roles (forced)")
        return real(prompt, tokenizer)

    monkeypatch.setattr(probe_states, "build_layout", flaky)
    bank = collect_states(tiny_lm, FEW_TASKS, 3, positions=("query_last",), layers=[0])
    assert bank.excluded == {"layout_error": 1, "too_long": 0}
    assert bank.n_kept == 8 and "uppercase:1" not in bank.prompt_ids
    calls["n"] = 0
    rows = run_probes(tiny_lm, FEW_TASKS, 3, positions=("query_last",), layers=[0])
    assert {r["excluded_layout_error"] for r in rows} == {1}


def test_too_long_prompts_are_excluded(tiny_lm, monkeypatch):
    monkeypatch.setattr(tiny_lm.model.config, "max_position_embeddings", 5)
    bank = collect_states(tiny_lm, FEW_TASKS, 2, positions=("query_last",), layers=[0])
    assert bank.excluded["too_long"] == 6 and bank.n_kept == 0
    with pytest.raises(InvalidChoiceError, match="'uppercase' has 0 distinct kept prompt"):
        evaluate_bank(bank)


def test_bad_inputs_are_clear_errors(tiny_lm):
    with pytest.raises(InvalidChoiceError, match="must be an ExampleSource.*got 'paper'"):
        collect_states(tiny_lm, FEW_TASKS, 2, source="paper")
    with pytest.raises(InvalidChoiceError, match="single position"):
        collect_states(tiny_lm, FEW_TASKS, 2, positions=("output_only",))
    with pytest.raises(InvalidChoiceError, match="k=3"):
        collect_states(tiny_lm, FEW_TASKS, 2, source=FIXED_DEMOS, k=3)
    with pytest.raises(InvalidChoiceError, match="two distinct tasks"):
        collect_states(tiny_lm, ("uppercase",), 2)


def test_layer_out_of_range_is_an_error(tiny_lm):
    with pytest.raises(InterventionError, match="out of range"):
        collect_states(tiny_lm, FEW_TASKS, 2, layers=[4])


def test_fitted_probes_score_their_own_held_out_half_as_evaluate_bank(banks):
    bank = banks["rigorous"]
    fitted = fit_bank_probes(bank, 1, "last_demo_token", seed=0)
    rows = evaluate_bank(bank, seed=0, layers=(1,), positions=("last_demo_token",))
    assert {r["probe"]: [r["k"], r["n"]] for r in rows} == fitted["test"]
    train, _ = split_prompts(bank.y, bank.texts, 0)
    assert fitted["train_texts"] == sorted({bank.texts[r] for r in train})


def test_fresh_prompts_are_new_and_training_texts_are_excluded(tiny_lm, banks):
    """Prompts numbered past the first run's are other prompts; a fresh prompt whose text is a
    training prompt's never counts as held out."""
    bank = banks["rigorous"]
    fitted = fit_bank_probes(bank, 1, "last_demo_token", seed=0)
    scored = score_fresh_prompts(tiny_lm, fitted, PAPER_TASKS, 6, 3, 1, "last_demo_token")
    assert scored["n"] + sum(scored["excluded"].values()) == 3 * len(PAPER_TASKS)
    assert scored["excluded"]["in_training"] == 0
    assert all(0 <= k <= scored["n"] for k in scored["correct"].values())
    fresh = collect_states(tiny_lm, PAPER_TASKS, 3, ("last_demo_token",), layers=(1,), start=6)
    assert not set(fresh.texts) & set(bank.texts)
    leaky = dict(fitted, train_texts=fitted["train_texts"] + list(fresh.texts[:5]))
    again = score_fresh_prompts(tiny_lm, leaky, PAPER_TASKS, 6, 3, 1, "last_demo_token")
    assert again["excluded"]["in_training"] == 5 and again["n"] == scored["n"] - 5
