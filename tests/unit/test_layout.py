"""Token layouts on every tokenizer: properties (hypothesis), role mapping, and bad input."""

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from icl_core.errors import InvalidChoiceError, LayoutError, UnknownNameError
from icl_core.prompts import Template, build_layout, get_template, map_positions, render
from icl_core.tasks import ABLATION_TASKS, PAPER_TASKS, ICLExample, sample_example, sample_pair

ALL_TASKS = PAPER_TASKS + ABLATION_TASKS
words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12)


def _check_layout(layout, tokenizer):
    ex = layout.prompt.example
    # every demo output span decodes back to its output text (up to the one leading space)
    for i, (_, y) in enumerate(ex.demos):
        span = layout.span(f"demo{i}.output")
        decoded = tokenizer.decode(layout.input_ids[span.start : span.end])
        assert decoded in (y, " " + y), (decoded, y)
        assert " " + y in layout.prompt.text
    # spans are disjoint, ordered, cover every token; the query's output label is last
    assert [s.start for s in layout.spans] == sorted(s.start for s in layout.spans)
    assert all(a.end == b.start for a, b in zip(layout.spans, layout.spans[1:], strict=False))
    assert layout.spans[0].start == 0 and layout.spans[-1].end == len(layout)
    assert layout.spans[-1].role == "query.output_label" == layout.roles[-1]
    # role mapping of a layout onto itself is the identity, and exact
    every = range(len(layout))
    m = map_positions(layout, layout, every)
    assert m.target == m.source == tuple(every) and m.exact and not m.unmatched


@given(task=st.sampled_from(ALL_TASKS), seed=st.integers(0, 10_000), k=st.integers(1, 6))
def test_layout_properties_on_sampled_tasks(any_tokenizer, task, seed, k):
    """Either a layout with every property, or a clear error naming the two roles a merged token
    straddles. Real tokenizers do merge across roles: Qwen's has '.\n\n' and ' -\n\n' as
    single tokens, so answers ending in punctuation cannot be separated from the separator."""
    example = sample_example(task, k=k, seed=seed)
    try:
        layout = build_layout(render(example), any_tokenizer)
    except LayoutError as err:
        assert "straddles roles" in str(err) and ".output and demo" in str(err)
        assert any(not y[-1].isalnum() for _, y in example.demos), str(err)
        return
    _check_layout(layout, any_tokenizer)


@given(demo_words=st.lists(words, min_size=1, max_size=5, unique=True), query=words,
       style=st.sampled_from(["upper", "repeat", "spaced"]))  # fmt: skip
def test_layout_properties_on_arbitrary_words(open_vocabulary_tokenizer, demo_words, query, style):
    tok = open_vocabulary_tokenizer
    answer = {"upper": str.upper, "repeat": lambda w: f"{w} {w}", "spaced": " ".join}[style]
    ex = ICLExample(style, tuple((w, answer(w)) for w in demo_words), query, answer(query))
    _check_layout(build_layout(render(ex), tok), tok)


def test_position_sets(any_tokenizer):
    layout = build_layout(render(sample_example("uppercase", k=5, seed=1)), any_tokenizer)
    sets = layout.position_sets()
    assert set(sets["output_only"]) < set(sets["output_lines"]) < set(sets["all_demo"])
    assert not set(sets["input_only"]) & set(sets["output_only"])
    assert set(sets["last_demo"]) < set(sets["all_demo"]) and not set(sets["query"]) & set(
        sets["all_demo"]
    )
    assert sets["last_demo_token"] == sets["demo4_output_last"]
    assert layout.roles[sets["last_demo_token"][0]] == "demo4.output"
    assert layout.roles[sets["last_separator"][0]] == "demo4.separator"
    assert sets["query_last"] == (len(layout) - 1,)
    assert layout.roles[sets["query_first"][0]] == "query.input_label"
    assert layout.roles[sets["query_input_last"][0]] == "query.input"
    with pytest.raises(UnknownNameError, match="output_only"):
        layout.position_set("outputs")


def test_mapping_by_role_handles_unequal_answers(any_tokenizer):
    pair = sample_pair("uppercase", "repeat_word", seed=5)  # answers differ in token count
    src = build_layout(render(pair.source), any_tokenizer)
    tgt = build_layout(render(pair.target), any_tokenizer)
    sets = tgt.position_sets()
    m = map_positions(src, tgt, sets["all_demo"])
    assert len(m.target) + len(m.unmatched) == len(sets["all_demo"])
    for t, s in zip(m.target, m.source, strict=True):
        assert tgt.roles[t] == src.roles[s]  # never a different role, whatever the lengths
    # inputs and labels are identical in a paired counterfactual: they map exactly, by role,
    # onto the same tokens, even where the absolute indices differ
    same = map_positions(src, tgt, sets["input_lines"])
    assert same.exact and not same.unmatched
    assert [tgt.input_ids[t] for t in same.target] == [src.input_ids[s] for s in same.source]
    if src.span("demo0.output").n != tgt.span("demo0.output").n:
        assert same.target != same.source  # absolute-index copying would misalign here
    with pytest.raises(InvalidChoiceError, match="outside the target"):
        map_positions(src, tgt, [len(tgt)])


def test_straddling_token_is_an_error():
    from icl_core.models.tiny import tiny_tokenizer

    glued = Template("glued", (
        ("input_label", "Input:"), ("input", " {x}"), ("line_break", "\n"),
        ("output_label", "Out"), ("output", "put: {y}"), ("separator", "\n\n"),
    ))  # fmt: skip
    ex = sample_example("uppercase", k=2, seed=0)
    with pytest.raises(LayoutError, match="straddles roles"):
        build_layout(render(ex, glued), tiny_tokenizer(add_bos=True))


def test_templates_render_and_bad_templates(any_tokenizer):
    ex = sample_example("antonym", k=3, seed=2)
    for name in ("paper", "qa", "arrow"):
        _check_layout(build_layout(render(ex, name), any_tokenizer), any_tokenizer)
    text = render(ex).text
    assert text.startswith(f"Input: {ex.demos[0][0]}\nOutput: {ex.demos[0][1]}\n\nInput: ")
    assert text.endswith(f"Input: {ex.query}\nOutput:")
    with pytest.raises(InvalidChoiceError, match=r"\{y\}"):
        Template("bad", (("input", "{x}"), ("output_label", ":"), ("output", "y")))
    with pytest.raises(UnknownNameError, match="paper"):
        get_template("chat")


def test_roles_group_into_contiguous_spans_or_fail():
    """`_group`: runs of one role become [start, end) spans; a role split in two runs, or a
    rendered part with no token, is a LayoutError."""
    from fixtures.tokenizers import get_tokenizer
    from icl_core.prompts.layout import _group

    prompt = render(sample_example("uppercase", 3, seed=1))
    layout = build_layout(prompt, get_tokenizer("tiny-bos"))
    roles = list(layout.roles)
    assert _group(roles, prompt) == layout.spans
    runs = [(role, len(list(run))) for role, run in itertools.groupby(roles)]
    ends = list(itertools.accumulate(n for _, n in runs))
    assert [(s.role, s.start, s.end) for s in layout.spans] == [
        (role, end - n, end) for (role, n), end in zip(runs, ends, strict=True)
    ]
    with pytest.raises(LayoutError, match=f"role {roles[1]} is split"):
        _group([*roles[:-1], roles[1]], prompt)
    first = layout.span(roles[1])
    merged = roles[: first.start] + ["bos"] * (first.end - first.start) + roles[first.end :]
    with pytest.raises(LayoutError, match="got no token of their own"):
        _group(merged, prompt)
