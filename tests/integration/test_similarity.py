"""C7 similarities: surface features on hand-made pairs, the standardized and centred cosine
matrices, task vectors on a tiny model, and the ordered-pair table."""

import numpy as np
import pytest

from fixtures.models import tiny_loaded
from icl_core.errors import InvalidChoiceError, UnknownNameError
from icl_core.experiments.similarity import (
    FEATURE_NAMES,
    cosine_matrix,
    pair_similarities,
    representation_similarity_matrix,
    standardize,
    surface_features,
    surface_similarity_matrix,
    task_pairs,
    task_vectors,
)
from icl_core.models.loading import LoadedModel
from icl_core.papers.cheng2026.protocol.sources import FIXED_DEMOS, example_source
from icl_core.tasks import PAPER_TASKS


def _f(pairs) -> dict[str, float]:
    return dict(zip(FEATURE_NAMES, surface_features(pairs).tolist(), strict=True))


@pytest.fixture(scope="module")
def tiny_lm() -> LoadedModel:
    return tiny_loaded("llama")


def test_ten_features():
    assert len(FEATURE_NAMES) == 10 == surface_features([("a", "b")]).shape[0]


def test_uppercase_features():
    f = _f([("apple", "APPLE"), ("stone", "STONE")])
    assert f["all_upper_frac"] == 1 and f["all_lower_frac"] == 0 and f["identity_frac"] == 0
    assert f["avg_out_words"] == 1 and f["avg_out_chars"] == 5 and f["single_word_frac"] == 1
    assert f["len_ratio"] == 1 and f["numeric_frac"] == 0 and f["has_punct_frac"] == 0


def test_repeat_word_features():
    f = _f([("cat", "cat cat"), ("house", "house house")])
    assert f["avg_out_words"] == 2 and f["single_word_frac"] == 0 and f["avg_in_words"] == 1
    assert f["all_lower_frac"] == 1 and f["len_ratio"] == pytest.approx((7 / 3 + 11 / 5) / 2)


def test_numeric_punct_identity_features():
    f = _f([("12", "24"), ("x", "x"), ("hi", "hi."), ("7", "-3.5")])
    assert f["numeric_frac"] == 0.5 and f["identity_frac"] == 0.25
    assert f["has_punct_frac"] == 0.5  # "hi." and "-3.5"
    assert f["avg_in_words"] == 1 and f["all_upper_frac"] == 0 and f["all_lower_frac"] == 0.5


def test_no_pairs_is_an_error():
    with pytest.raises(InvalidChoiceError, match="at least one"):
        surface_features([])


def test_standardize_zscores_and_zeroes_constant_columns():
    z = standardize(np.array([[1.0, 5.0], [3.0, 5.0], [5.0, 5.0]]))
    np.testing.assert_allclose(z[:, 0], [-1.2247449, 0.0, 1.2247449], rtol=1e-6)
    assert (z[:, 1] == 0).all()


def test_cosine_matrix_conventions():
    m = cosine_matrix(np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]))
    assert np.allclose(np.diag(m), 1) and np.allclose(m, m.T)
    assert m[0, 1] == pytest.approx(2**-0.5) and m[0, 2] == m[2, 1] == 0


@pytest.mark.parametrize("protocol", ["rigorous", "paper"])
def test_surface_matrix(protocol):
    source = example_source(protocol)
    names, m = surface_similarity_matrix(PAPER_TASKS, n_examples=30, seed=1, source=source)
    assert names == PAPER_TASKS and m.shape == (8, 8)
    assert np.allclose(m, m.T) and np.allclose(np.diag(m), 1) and (np.abs(m) <= 1).all()
    assert not np.allclose(m[~np.eye(8, dtype=bool)], 1)  # standardized: not all ~1
    again = surface_similarity_matrix(PAPER_TASKS, n_examples=30, seed=1, source=source)
    assert np.array_equal(m, again[1])


def test_task_pairs_sample():
    pairs = task_pairs("uppercase", n_examples=20, seed=0)
    assert len(pairs) == len(set(pairs)) == 20 and all(y == x.upper() for x, y in pairs)
    assert pairs == task_pairs("uppercase", n_examples=20, seed=0)
    assert pairs != task_pairs("uppercase", n_examples=20, seed=1)
    assert task_pairs("length", n_examples=7, source=FIXED_DEMOS)[0] == ("apple", "5")
    with pytest.raises(InvalidChoiceError, match="must be an ExampleSource"):
        task_pairs("uppercase", source="paper")
    with pytest.raises(UnknownNameError, match="valid protocols"):
        example_source("loose")


@pytest.fixture(scope="module")
def vectors(tiny_lm):
    return task_vectors(tiny_lm, PAPER_TASKS, layer=2, n_prompts=3, seed=0)


def test_task_vectors(vectors, tiny_lm):
    assert list(vectors) == list(PAPER_TASKS)
    assert all(v.shape == (32,) and np.isfinite(v).all() for v in vectors.values())
    again = task_vectors(tiny_lm, PAPER_TASKS[:2], layer=2, n_prompts=3, seed=0)
    assert all(np.array_equal(again[t], vectors[t]) for t in PAPER_TASKS[:2])


def test_a_task_that_keeps_no_prompt_raises_or_is_dropped(tiny_lm, monkeypatch):
    """A task whose every prompt fails layout on a tokenizer (qwen2.5 merges "." and the
    newline after uppercase_period's answers) raises, or is left out with drop_unkept."""
    from icl_core.experiments import similarity

    real = similarity.collect_states

    def without_first_task(*args, **kwargs):
        bank = real(*args, **kwargs)
        keep = bank.y != 0
        bank.X = {key: x[keep] for key, x in bank.X.items()}
        bank.y, bank.excluded = bank.y[keep], dict(bank.excluded, layout_error=3)
        return bank

    monkeypatch.setattr(similarity, "collect_states", without_first_task)
    tasks = PAPER_TASKS[:3]
    with pytest.raises(InvalidChoiceError, match="'uppercase': no prompt kept out of 3"):
        task_vectors(tiny_lm, tasks, layer=2, n_prompts=3)
    assert list(task_vectors(tiny_lm, tasks, layer=2, n_prompts=3, drop_unkept=True)) == list(
        tasks[1:]
    )


def test_representation_matrix_is_centred(vectors):
    names, m = representation_similarity_matrix(vectors)
    assert names == PAPER_TASKS and m.shape == (8, 8)
    assert np.allclose(m, m.T) and np.allclose(np.diag(m), 1)
    shared = {t: v + 100.0 for t, v in vectors.items()}  # a large common component
    np.testing.assert_allclose(representation_similarity_matrix(shared)[1], m, atol=1e-6)
    raw = cosine_matrix(np.stack(list(shared.values())))
    assert raw.min() > 0.99  # what centring removes


def test_pair_similarities(vectors):
    surface = surface_similarity_matrix(PAPER_TASKS)
    names, rep = representation_similarity_matrix(vectors)
    shuffled = (names[::-1], rep[::-1, ::-1])  # matched by name, not by order
    rows = pair_similarities(surface, shuffled)
    assert len(rows) == 56
    assert all(r["source_task"] != r["target_task"] for r in rows)
    assert len({(r["source_task"], r["target_task"]) for r in rows}) == 56
    r = next(r for r in rows if (r["source_task"], r["target_task"]) == ("uppercase", "length"))
    assert r["surface"] == surface[1][0, 3] and r["representation"] == rep[0, 3]
    with pytest.raises(InvalidChoiceError, match="different tasks"):
        pair_similarities(surface, (names[:2], rep[:2, :2]))
