"""The paper protocol's example source (`icl_core.tasks.sources`): the release's five fixed demos
and its test inputs, and `example_source`, the source of a protocol name."""

from __future__ import annotations

from icl_core.errors import InvalidChoiceError, UnknownNameError
from icl_core.papers.cheng2026.protocol.data import paper_example, paper_task
from icl_core.papers.cheng2026.protocol.ingredients import PAPER_K
from icl_core.tasks.sampling import ICLExample
from icl_core.tasks.sources import SAMPLED_DEMOS, ExampleSource

PAPER_QUERIES = 50  # test inputs per task in the release


class FixedDemos:
    """The paper protocol. `example`: the release's five FIXED demos and test input ``i % 50``
    (`paper_example`; `k` must be 5, `seed` is unused), so every prompt of a task shares the text
    up to the query (SPEC 2.1, flaw 1); `pairs`: the five demos, then the test inputs with their
    answers, the first `n`."""

    name = "paper"

    def example(self, task: str, i: int, k: int, seed: int) -> ICLExample:
        if k != PAPER_K:
            raise InvalidChoiceError(
                f"protocol 'paper' uses the release's {PAPER_K} fixed demos, got k={k}"
            )
        return paper_example(task, i % PAPER_QUERIES)

    def pairs(self, task: str, n: int, seed: int) -> list[tuple[str, str]]:
        pt = paper_task(task)
        return (list(pt.demos) + [(x, pt.answer_for(x)) for x in pt.test_inputs])[:n]

    def __repr__(self) -> str:
        return "FIXED_DEMOS"


FIXED_DEMOS = FixedDemos()
SOURCES: dict[str, ExampleSource] = {"rigorous": SAMPLED_DEMOS, "paper": FIXED_DEMOS}


def example_source(protocol: str) -> ExampleSource:
    """The example source of a protocol name ("rigorous" or "paper"); UnknownNameError
    otherwise."""
    if protocol not in SOURCES:
        raise UnknownNameError("protocol", protocol, tuple(SOURCES))
    return SOURCES[protocol]
