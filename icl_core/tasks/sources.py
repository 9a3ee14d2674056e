"""Example sources: where the prompts and task samples of the clean-state experiments (probes,
task vectors, surface features) come from under a protocol.

An `ExampleSource` names its protocol (`name`: the string stored in configs and state banks),
gives prompt number `i` of a task with `k` demos (`example`) and an (input, output) sample of a
task (`pairs`). The core has one, `SAMPLED_DEMOS` (the rigorous protocol); a paper defines its
own (e.g. its release's fixed demos) and passes it in, so the experiments name no paper.
"""

from __future__ import annotations

import random
from typing import Protocol, runtime_checkable

from icl_core.errors import InvalidChoiceError
from icl_core.tasks.registry import resolve_task
from icl_core.tasks.sampling import ICLExample, derive_seed, sample_example


@runtime_checkable
class ExampleSource(Protocol):
    name: str

    def example(self, task: str, i: int, k: int, seed: int) -> ICLExample:
        """Prompt number `i` (>= 0) of `task` with `k` demos; deterministic for a seed."""
        ...

    def pairs(self, task: str, n: int, seed: int) -> list[tuple[str, str]]:
        """At most `n` (input, output) pairs of `task`; deterministic for a seed."""
        ...


class SampledDemos:
    """The rigorous protocol. `example`: demos and query sampled per prompt with
    ``derive_seed(seed, f"probe:{task}:{i}")``; `pairs`: ``min(n, pool)`` inputs drawn without
    replacement from the task's demo pool with ``derive_seed(seed, f"surface:{task}")``."""

    name = "rigorous"

    def example(self, task: str, i: int, k: int, seed: int) -> ICLExample:
        return sample_example(task, k, seed=derive_seed(seed, f"probe:{task}:{i}"))

    def pairs(self, task: str, n: int, seed: int) -> list[tuple[str, str]]:
        t = resolve_task(task)
        rng = random.Random(derive_seed(seed, f"surface:{t.name}"))
        return [(x, t.answer(x)) for x in rng.sample(list(t.demo_pool), min(n, len(t.demo_pool)))]

    def __repr__(self) -> str:
        return "SAMPLED_DEMOS"


SAMPLED_DEMOS = SampledDemos()


def check_source(source: object) -> ExampleSource:
    """`source` itself if it is an ExampleSource; InvalidChoiceError naming the choices otherwise
    (a protocol's name is not a source: the caller maps names to sources)."""
    if not isinstance(source, ExampleSource):
        raise InvalidChoiceError(
            "an example source must be an ExampleSource (icl_core.tasks.sources.SAMPLED_DEMOS, "
            f"or a paper's own, such as its release's fixed demos), got {source!r}"
        )
    return source
