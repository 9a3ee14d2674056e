"""Sampling of examples and pairs, and the degenerate / ambiguous diagnostics (SPEC 5.1)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from icl_core.errors import InvalidChoiceError, UnknownNameError
from icl_core.tasks import (
    ICLExample,
    Task,
    ambiguous_queries,
    degenerate_tasks,
    draw_groups,
    get_task,
    is_degenerate,
    pair_report,
    sample_draw,
    sample_example,
    sample_pair,
    shared_input_capacity,
    shared_pools,
    task_names,
)

WORD_TASKS = [
    n for n in task_names() if n not in ("linear_2x", "pattern_completion")
]  # tasks over words: their pools intersect
seeds = st.integers(min_value=0, max_value=2**63)


def _check_example(example: ICLExample, k: int) -> None:
    task = get_task(example.task)
    inputs = example.demo_inputs
    assert len(inputs) == k == len(set(inputs))
    assert set(inputs) <= set(task.demo_pool)
    assert example.query in task.query_pool
    assert example.query not in inputs
    assert all(y == task.answer(x) for x, y in example.demos)
    assert example.answer == task.answer(example.query)


# --- sample_example -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", task_names())
def test_sample_example_is_deterministic_and_valid(name):
    for seed in range(20):
        example = sample_example(name, k=5, seed=seed)
        assert example == sample_example(get_task(name), k=5, seed=seed)
        _check_example(example, 5)


@pytest.mark.parametrize("name", task_names())
def test_different_seeds_give_different_demo_sets(name):
    demo_sets = {frozenset(sample_example(name, seed=s).demo_inputs) for s in range(50)}
    assert len(demo_sets) == 50


def test_no_two_of_200_seeds_share_an_uppercase_demo_set():
    demo_sets = {frozenset(sample_example("uppercase", seed=s).demo_inputs) for s in range(200)}
    assert len(demo_sets) == 200


def test_sample_example_pinned_output():
    """Bit for bit across processes and hash seeds: a pinned draw (update on a data change)."""
    example = sample_example("uppercase", k=3, seed=123)
    assert example.demos == (("bison", "BISON"), ("helpful", "HELPFUL"), ("cave", "CAVE"))
    assert (example.query, example.answer) == ("north", "NORTH")


@pytest.mark.parametrize("k", [0, -1])
def test_k_below_one_is_rejected(k):
    with pytest.raises(InvalidChoiceError, match=f"k={k}"):
        sample_example("uppercase", k=k)


def test_k_larger_than_the_pool_is_rejected_with_the_pool_size():
    pool = len(get_task("antonym").demo_pool)
    assert sample_example("antonym", k=pool).demo_inputs  # the whole pool is fine
    with pytest.raises(InvalidChoiceError) as info:
        sample_example("antonym", k=pool + 1)
    message = str(info.value)
    assert f"k={pool + 1}" in message and str(pool) in message and "antonym" in message


def test_unknown_task_is_rejected_everywhere():
    for call in (
        lambda: sample_example("nope"),
        lambda: sample_pair("uppercase", "nope"),
        lambda: shared_input_capacity("nope", "uppercase"),
        lambda: ambiguous_queries("nope", "uppercase"),
        lambda: degenerate_tasks(["nope"]),
    ):
        with pytest.raises(UnknownNameError, match="repeat_word"):
            call()


@given(st.sampled_from(task_names()), st.integers(min_value=1, max_value=12), seeds)
def test_sample_example_properties(name, k, seed):
    _check_example(sample_example(name, k=k, seed=seed), k)


# --- sample_pair --------------------------------------------------------------------------------


def test_shared_pair_is_a_paired_counterfactual():
    pair = sample_pair("uppercase", "repeat_word", k=5, seed=7)
    assert pair.shared_inputs
    assert pair.source.demo_inputs == pair.target.demo_inputs
    assert pair.source.query != pair.target.query  # SPEC 5.3: the source asks another query
    assert abs(len(pair.source.query) - len(pair.target.query)) <= 1
    assert [y for _, y in pair.source.demos] == [x.upper() for x in pair.source.demo_inputs]
    assert [y for _, y in pair.target.demos] == [f"{x} {x}" for x in pair.target.demo_inputs]
    assert pair.source_answer_for_query == pair.target.query.upper()
    assert pair.source.answer == pair.source.query.upper()
    assert not pair.ambiguous
    same = sample_pair("uppercase", "repeat_word", k=5, seed=7, distinct_queries=False)
    assert same.source.query == same.target.query == pair.target.query
    assert same.source.demos == pair.source.demos
    assert pair == sample_pair("uppercase", "repeat_word", k=5, seed=7)
    assert pair != sample_pair("uppercase", "repeat_word", k=5, seed=8)


@given(
    st.sampled_from(list(itertools.permutations(WORD_TASKS, 2))),
    st.integers(min_value=1, max_value=5),
    seeds,
)
def test_shared_pairs_properties(names, k, seed):
    source, target = names
    demo_cap, query_cap = shared_input_capacity(source, target)
    if demo_cap < k or query_cap < 1:
        with pytest.raises(InvalidChoiceError, match="shared_inputs=False"):
            sample_pair(source, target, k=k, seed=seed)
        return
    try:
        pair = sample_pair(source, target, k=k, seed=seed)
    except InvalidChoiceError as exc:  # no second query whose answers differ
        assert "distinct_queries=False" in str(exc)
        return
    _check_example(pair.source, k)
    _check_example(pair.target, k)
    assert pair.source.demo_inputs == pair.target.demo_inputs
    assert pair.source.query != pair.target.query
    # a copied source answer is told apart from a transfer and from a preserve
    assert pair.source.answer not in (pair.source_answer_for_query, pair.target.answer)
    assert pair.source_answer_for_query == get_task(source).answer(pair.target.query)
    assert pair.ambiguous == (pair.source_answer_for_query == pair.target.answer)


def test_shared_inputs_impossible_says_so():
    assert shared_input_capacity("uppercase", "linear_2x") == (0, 0)
    with pytest.raises(InvalidChoiceError) as info:
        sample_pair("uppercase", "linear_2x")
    message = str(info.value)
    assert "0 demo" in message and "shared_inputs=False" in message


def test_shared_inputs_too_few_for_k():
    demo_cap, query_cap = shared_input_capacity("sentiment", "antonym")
    assert 0 < demo_cap < 20 and query_cap > 0  # a few words are in both lexicons
    assert sample_pair("sentiment", "antonym", k=demo_cap).shared_inputs
    with pytest.raises(InvalidChoiceError, match=f"k={demo_cap + 1}"):
        sample_pair("sentiment", "antonym", k=demo_cap + 1)


def test_independent_pairs():
    pair = sample_pair("uppercase", "linear_2x", k=5, seed=3, shared_inputs=False)
    assert not pair.shared_inputs
    _check_example(pair.source, 5)
    _check_example(pair.target, 5)
    assert pair.source_answer_for_query is None  # uppercase does not accept "42"
    assert not pair.ambiguous
    assert pair == sample_pair("uppercase", "linear_2x", k=5, seed=3, shared_inputs=False)
    same_task = sample_pair("uppercase", "repeat_word", seed=3, shared_inputs=False)
    assert same_task.source.demo_inputs != same_task.target.demo_inputs
    assert same_task.source_answer_for_query == same_task.target.query.upper()


def test_shared_capacity_is_the_pool_intersection():
    for source, target in itertools.permutations(
        ["uppercase", "length", "sentiment", "antonym"], 2
    ):
        s, t = get_task(source), get_task(target)
        expected = (
            len(set(s.demo_pool) & set(t.demo_pool)),
            len(set(s.query_pool) & set(t.query_pool)),
        )
        assert shared_input_capacity(source, target) == expected
        assert shared_input_capacity(target, source) == expected
    # string tasks share one pool, and every string task's pool lies inside length's
    upper = get_task("uppercase")
    assert shared_input_capacity("uppercase", "reverse") == (
        len(upper.demo_pool),
        len(upper.query_pool),
    )
    assert shared_input_capacity("uppercase", "length") == (
        len(upper.demo_pool),
        len(upper.query_pool),
    )
    # sentiment words usable with the string tasks, for paired prompts
    assert min(shared_input_capacity("uppercase", "sentiment")) >= 30


# --- degenerate tasks ---------------------------------------------------------------------------


def test_no_registered_task_is_degenerate():
    assert degenerate_tasks() == {}


def test_length_on_five_letter_words_is_degenerate():
    assert is_degenerate("length", ["apple", "brain", "cloud", "delta", "flame"])
    assert not is_degenerate("length", ["apple", "kiwi"])
    assert not is_degenerate("length", get_task("length").query_pool)
    assert is_degenerate("first_letter", ["apple", "arrow", "acorn"])
    with pytest.raises(InvalidChoiceError, match="at least 2"):
        is_degenerate("length", ["apple"])


def test_a_constant_task_is_reported_with_its_answer():
    const = Task(
        "const",
        "numeric",
        "always 5",
        ("apple", "brain"),
        ("cloud", "delta"),
        lambda x: "5",
        str.isalpha,
    )
    assert degenerate_tasks([const, "length"]) == {"const": "5"}
    assert pair_report("uppercase", const).target_degenerate


# --- ambiguous pairs ----------------------------------------------------------------------------


def test_spell_out_and_reverse_spaced_coincide_exactly_on_palindromes():
    pool = get_task("reverse_spaced").query_pool
    palindromes = [q for q in pool if q == q[::-1]]
    assert palindromes  # the word list holds palindromes (radar, refer, ...) on purpose
    assert ambiguous_queries("spell_out", "reverse_spaced") == palindromes
    assert ambiguous_queries("reverse_spaced", "spell_out") == palindromes
    queries = ["level", "kayak", "apple", "noon"]
    assert ambiguous_queries("spell_out", "reverse_spaced", queries) == ["level", "kayak", "noon"]


def test_pairs_with_no_coincidence():
    for source, target in [
        ("uppercase", "spell_out"),
        ("sentiment", "sentiment_goodbad"),
        ("reverse", "uppercase"),
        ("length", "length_word"),
        ("repeat_word", "repeat_n"),
        ("uppercase", "uppercase_period"),
    ]:
        assert ambiguous_queries(source, target) == []
        assert ambiguous_queries(target, source) == []
    # no task of ours is the identity, so reverse's palindromes are no coincidence with any task
    assert ambiguous_queries("reverse", "uppercase", ["kayak", "level"]) == []


def test_the_only_ambiguous_pairs_of_the_registry():
    """Regression over all ordered pairs: new data must not add silent coincidences."""
    found = {(s, t) for s, t in itertools.permutations(task_names(), 2) if ambiguous_queries(s, t)}
    assert found == {("spell_out", "reverse_spaced"), ("reverse_spaced", "spell_out")}


def test_sample_pair_flags_ambiguous_trials():
    flagged = 0
    for seed in range(400):
        pair = sample_pair("spell_out", "reverse_spaced", k=5, seed=seed)
        query = pair.target.query
        assert pair.ambiguous == (query == query[::-1])
        flagged += pair.ambiguous
    assert flagged > 0


def test_pair_report():
    report = pair_report("spell_out", "reverse_spaced")
    target = get_task("reverse_spaced")
    assert report.n_queries == len(target.query_pool)
    assert report.ambiguous == tuple(ambiguous_queries("spell_out", "reverse_spaced"))
    assert report.n_inapplicable == 0
    assert report.n_usable == report.n_queries - len(report.ambiguous)
    assert not report.source_degenerate and not report.target_degenerate
    assert report.shared_capacity == shared_input_capacity("spell_out", "reverse_spaced")

    cross = pair_report("uppercase", "linear_2x")
    assert cross.n_inapplicable == cross.n_queries == len(get_task("linear_2x").query_pool)
    assert cross.n_usable == 0 and cross.ambiguous == ()
    assert cross.shared_capacity == (0, 0)


# --- draws shared by a group's pairs --------------------------------------------------------------

GROUPS = [g for g in draw_groups(task_names()) if len(g) > 1]


def test_draw_groups_share_every_pairs_pools():
    """Within a group every pair's shared pools are the group's common pools (so a draw is
    distributed for each pair as sample_pair's inputs are); every task is in one group."""
    groups = draw_groups(task_names())
    assert sorted(t for g in groups for t in g) == sorted(task_names())
    assert any(len(g) >= 4 for g in groups)  # the word tasks share one pool
    for g in GROUPS:
        pools = {shared_pools(a, b) for a, b in itertools.combinations(g, 2)}
        assert len(pools) == 1 and len(next(iter(pools))[0]) >= 5, g


@given(st.sampled_from(GROUPS), st.integers(min_value=1, max_value=5), seeds)
def test_a_draw_is_a_paired_counterfactual_for_every_pair(group, k, seed):
    draw = sample_draw(group, k=k, seed=seed)
    assert sorted(draw) == sorted(itertools.permutations(group, 2))
    assert draw == sample_draw(group, k=k, seed=seed)
    targets = {pair.target.query for pair in draw.values()}
    sources = {pair.source.task: pair.source for pair in draw.values()}
    assert len(targets) == 1  # one target query, one source prompt per task
    for (source, target), pair in draw.items():
        _check_example(pair.source, k)
        _check_example(pair.target, k)
        assert pair.source == sources[source] and pair.target.task == target
        assert pair.source.demo_inputs == pair.target.demo_inputs
        assert pair.source.query != pair.target.query
        every_answer = {get_task(t).answer(pair.target.query) for t in group}
        assert pair.source.answer not in every_answer  # a copy is told from any answer
        assert pair.source_answer_for_query == get_task(source).answer(pair.target.query)
        assert pair.ambiguous == (pair.source_answer_for_query == pair.target.answer)


def test_a_draw_needs_a_group():
    with pytest.raises(InvalidChoiceError, match="common demo inputs"):
        sample_draw(["uppercase", "linear_2x"])
