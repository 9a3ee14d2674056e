"""The measurement design of the paper's claims (SPEC 5): the headline task pair, the position
sets the sweeps patch, the controls, and the subset sizes of the threshold experiment.
Experiments measure this design and verdicts read it; neither owns it."""

from __future__ import annotations

HEADLINE = ("uppercase", "repeat_word")  # (source, target) of the headline sweep
MULTI_SETS = ("all_demo", "output_only", "input_only", "last_demo")  # C2, C3
SINGLE_SETS = ("demo0_output_last", "demo1_output_last", "demo2_output_last",
               "demo3_output_last", "demo4_output_last", "last_separator", "query_first",
               "query_input_last", "query_last")  # fmt: skip  # C1
DEMO_SINGLE_SETS = tuple(s for s in SINGLE_SETS if s.startswith("demo"))  # C5 (with the query's)
CONTROLS = ("random_source", "noise_matched", "shuffled")  # C9
SUBSET_KS = (1, 2, 3, 5, 7, 10)  # C8(b): sizes of random subsets of the output-line positions
SUBSET_DRAWS = 10  # C8(b): random subsets drawn per size and trial


def subset_set(k: int, s: int) -> str:
    """The position-set name of draw `s` of a random `k`-subset of the output lines."""
    return f"output_lines@k{k}s{s}"


THRESHOLD_SETS = tuple(subset_set(k, s) for k in SUBSET_KS for s in range(SUBSET_DRAWS)) + (
    "output_lines",
    "output_lines@last1",
    "output_lines@last2",
    "output_lines@last3",
)  # C8: every subset draw, all output lines, and those of the last 1-3 demos
