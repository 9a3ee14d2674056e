"""Audit of the paper's released protocol (SPEC 2.1), demonstrated on the zoo models and the
paper's own task data. Each test shows one flaw; none of them is a claim of the paper.

Flaw 5 (unmatched single-position comparison) and flaw 7 (the abstract's r = 0.31) concern the
paper's own result files and are not re-demonstrated here.
"""

import pytest
import torch

from fixtures.tokenizers import get_tokenizer
from icl_core.papers.cheng2026.protocol import paper_example, paper_outcome, paper_task
from icl_core.papers.cheng2026.protocol.ingredients import paper_layer_grid
from icl_core.papers.cheng2026.protocol.positions import paper_position_diff
from icl_core.prompts import build_layout, render
from icl_core.replay import clean_prefill
from icl_core.tasks import get_task, is_degenerate

pytestmark = [pytest.mark.zoo]


def test_flaw1_fixed_demos_make_demo_states_identical(lm):
    """With the paper's fixed demos, two prompts of a task differ only in the query: every
    state before the query is identical, so a probe at demo positions is trivially perfect."""
    a, b = paper_example("uppercase", 0), paper_example("uppercase", 1)
    la, lb = (build_layout(render(x), lm.tokenizer) for x in (a, b))
    pos = la.position_set("last_demo_token")[0]
    sa = clean_prefill(lm.model, la.input_ids).states
    sb = clean_prefill(lm.model, lb.input_ids).states
    mid = lm.info.n_layers // 2
    torch.testing.assert_close(sa[mid][pos], sb[mid][pos], rtol=0, atol=1e-4)
    qa, qb = sa[mid][-1], sb[mid][-1]  # the query differs (relative: any model's scale)
    assert (qa - qb).norm() > 1e-2 * qa.norm(), "the query's states should differ"


def test_flaw2_length_task_is_constant_on_the_papers_words():
    task = paper_task("length")
    assert {task.answers[x] for x in task.test_inputs} == {"5"}
    assert is_degenerate("length", task.test_inputs)
    assert not is_degenerate("length", get_task("length").query_pool)


def test_flaw3_pattern_scorer_counts_repeat_word_answers_as_transfer():
    """Source pattern_completion, target repeat_word: the correct target answer "x x" for the
    query "x" passes the pattern scorer's first-token check first, so it is a "transfer"."""
    assert paper_outcome("pattern_completion", "repeat_word", "x x", "w x w x w", "x") == "transfer"
    assert not get_task("pattern_completion").score("x x", "w x w x w")


@pytest.mark.parametrize("name", ["gemma3-270m", "qwen2.5-coder-0.5b"])
def test_flaw4_paper_positions_land_on_other_roles(name):
    tok = get_tokenizer(name)
    diff = paper_position_diff(build_layout(render(paper_example("uppercase", 0)), tok), tok)
    assert diff.misplaced >= 10, diff.misplaced_per_demo  # measured: gemma 14/34, qwen 19/34


def test_flaw6_the_papers_layer_grid_starts_at_thirty_percent():
    """The cross-model runs tested only depth fractions 0.30, 0.44, 0.52, 0.59: 30% was the
    shallowest layer tested, so "best near 30%" could not have come out shallower."""
    for n_layers in (16, 26, 28):
        grid = paper_layer_grid(n_layers)
        assert min(grid) / n_layers <= 0.30 + 1 / n_layers and min(grid) == int(0.3 * n_layers)
