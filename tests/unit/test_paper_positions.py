"""The paper's position algorithm, reproduced, and where it lands versus the true roles."""

import pytest

from fixtures.tokenizers import get_tokenizer
from icl_core.errors import LayoutError
from icl_core.papers.cheng2026.protocol import paper_example
from icl_core.papers.cheng2026.protocol.positions import paper_position_diff, paper_positions
from icl_core.prompts import build_layout, render
from icl_core.tasks import sample_example


def test_exact_on_a_tokenizer_without_bos_or_newline_merges():
    """On the tiny BOS tokenizer every position shifts by the one uncounted BOS token."""
    tok = get_tokenizer("tiny-bos")
    layout = build_layout(render(paper_example("uppercase", 0)), tok)
    pp = paper_positions(layout.prompt.text, tok)
    # the paper's first position is index 0, which is the BOS token here, not "Input"
    assert pp.sets["input_only"][0] == 0 and layout.roles[0] == "bos"
    diff = paper_position_diff(layout, tok)
    assert diff.misplaced > 0 and all(n > 0 for n in diff.misplaced_per_demo.values())


def test_sets_follow_the_released_description():
    tok = get_tokenizer("tiny-nobos")
    text = render(paper_example("uppercase", 0)).text
    pp = paper_positions(text, tok)
    n_in = len(tok.encode("Input: apple", add_special_tokens=False))
    n_out = len(tok.encode("Output: APPLE", add_special_tokens=False))
    nl = len(tok.encode("\n", add_special_tokens=False))
    assert pp.sets["input_only"][:n_in] == tuple(range(n_in))
    assert pp.sets["output_only"][:n_out] == tuple(range(n_in + nl, n_in + nl + n_out))
    assert set(pp.sets["all_demo"]) == set(pp.sets["input_only"]) | set(pp.sets["output_only"])
    assert set(pp.sets["last_demo"]) <= set(pp.sets["all_demo"])
    assert {p.demo for p in pp.attributed} == set(range(5))


@pytest.mark.zoo
@pytest.mark.parametrize("name", ["gemma3-270m", "qwen2.5-coder-0.5b"])
def test_paper_positions_misplace_tokens_on_zoo_tokenizers(name):
    """Merged "\\n\\n" (both) and an uncounted BOS (Gemma) move the paper's positions off their
    roles, by more with every demo."""
    tok = get_tokenizer(name)
    diff = paper_position_diff(build_layout(render(paper_example("uppercase", 0)), tok), tok)
    per_demo = [diff.misplaced_per_demo[d] for d in range(5)]
    print(f"{name}: paper positions misplaced per demo {per_demo} of {diff.total}")
    assert diff.misplaced > 0
    assert per_demo[4] > per_demo[1]  # drift grows along the prompt


def test_needs_the_paper_template():
    tok = get_tokenizer("tiny-bos")
    with pytest.raises(LayoutError, match="paper's template"):
        paper_positions(render(sample_example("uppercase", seed=0), "qa").text, tok)
