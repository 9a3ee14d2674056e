"""Sampling of ICL prompts' contents: one task's example, or a (source, target) pair.

Contract: every function is a pure function of its arguments; the same seed gives the same result
bit for bit (``random.Random(seed)`` over sorted pools). Demo inputs of one example are distinct
and come from the demo pool; the query comes from the query pool, so it never appears among the
demos. The diagnostics of :mod:`icl_core.tasks.diagnostics` are re-exported here.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from icl_core.errors import InvalidChoiceError
from icl_core.tasks.diagnostics import (
    PairReport,
    ambiguous_queries,
    degenerate_tasks,
    is_degenerate,
    pair_report,
    shared_pools,
)
from icl_core.tasks.registry import resolve_task
from icl_core.tasks.task import Task

__all__ = [
    "ICLExample",
    "PairReport",
    "TaskPair",
    "ambiguous_queries",
    "degenerate_tasks",
    "derive_seed",
    "is_degenerate",
    "pair_report",
    "sample_example",
    "sample_pair",
    "shared_input_capacity",
]


@dataclass(frozen=True)
class ICLExample:
    """The contents of one ICL prompt: k (input, output) demos, a query and its answer."""

    task: str
    demos: tuple[tuple[str, str], ...]
    query: str
    answer: str

    @property
    def demo_inputs(self) -> tuple[str, ...]:
        return tuple(x for x, _ in self.demos)


@dataclass(frozen=True)
class TaskPair:
    """A source and a target example for one intervention trial.

    ``ambiguous``: the source task's answer to the target's query equals the target's answer; such
    a trial cannot separate transfer from preserve and must be excluded and counted by the caller.
    ``source_answer_for_query``: the source task's answer to the TARGET's query, None where the
    source task does not accept that query.
    """

    source: ICLExample
    target: ICLExample
    shared_inputs: bool
    ambiguous: bool
    source_answer_for_query: str | None


def derive_seed(seed: int, role: str) -> int:
    """A 64-bit seed derived from ``seed`` and a role name (stable across runs and platforms)."""
    digest = hashlib.sha256(f"{seed}:{role}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _check_k(k: int, pool_size: int, what: str) -> None:
    if not 1 <= k <= pool_size:
        raise InvalidChoiceError(f"k={k} demos out of range: {what} holds {pool_size} inputs")


def _example(task: Task, inputs: list[str], query: str) -> ICLExample:
    demos = tuple((x, task.answer(x)) for x in inputs)
    return ICLExample(task.name, demos, query, task.answer(query))


def sample_example(task: Task | str, k: int = 5, seed: int = 0) -> ICLExample:
    """k distinct demos from the demo pool and one query from the query pool.

    Raises InvalidChoiceError if k < 1 or k exceeds the demo pool.
    """
    t = resolve_task(task)
    _check_k(k, len(t.demo_pool), f"the demo pool of {t.name!r}")
    rng = random.Random(seed)
    inputs = rng.sample(t.demo_pool, k)
    return _example(t, inputs, rng.choice(t.query_pool))


def shared_input_capacity(source: Task | str, target: Task | str) -> tuple[int, int]:
    """Sizes of the shared demo and query pools that ``sample_pair(shared_inputs=True)`` uses."""
    demo, query = shared_pools(source, target)
    return len(demo), len(query)


def _source_query(s: Task, t: Task, q: str, pool: tuple[str, ...], rng: random.Random) -> str:
    """A source query other than `q`, whose source answer differs from the source's and the
    target's answers to `q` (so a copied source answer is told apart from a transfer and a
    preserve); preferably of the same length band (|length difference| <= 1)."""
    taken = {t.answer(q)} | ({s.answer(q)} if s.accepts(q) else set())
    options = [x for x in pool if x != q and s.answer(x) not in taken]
    if not options:
        raise InvalidChoiceError(
            f"no source query for {s.name!r} -> {t.name!r} other than {q!r} whose answer differs "
            f"from both answers to {q!r}; use distinct_queries=False"
        )
    near = [x for x in options if abs(len(x) - len(q)) <= 1]
    return rng.choice(near or options)


def sample_pair(
    source: Task | str,
    target: Task | str,
    k: int = 5,
    seed: int = 0,
    shared_inputs: bool = True,
    distinct_queries: bool = True,
) -> TaskPair:
    """A (source, target) pair of examples.

    ``shared_inputs=True`` (the paired counterfactual): identical demo inputs for both tasks,
    drawn from inputs both accept; only the demo outputs differ. With ``distinct_queries`` (the
    default, SPEC 5.3) the source prompt asks another query (`_source_query`), so its states at
    query positions cannot hold its answer to the target's query; otherwise both ask the same.
    Raises InvalidChoiceError when the shared pools cannot supply k demos and the queries.
    ``shared_inputs=False``: each example is sampled independently with seeds derived from
    ``seed``.
    """
    s, t = resolve_task(source), resolve_task(target)
    if shared_inputs:
        demo, query = shared_pools(s, t)
        if k < 1 or len(demo) < k or not query:
            raise InvalidChoiceError(
                f"shared inputs for {s.name!r} -> {t.name!r}: the tasks share {len(demo)} demo "
                f"inputs and {len(query)} query inputs, too few for k={k} demos and 1 query "
                f"(k must be >= 1); use shared_inputs=False to sample each task independently"
            )
        rng = random.Random(seed)
        inputs = rng.sample(demo, k)
        q = rng.choice(query)
        q_src = _source_query(s, t, q, query, rng) if distinct_queries else q
        src, tgt = _example(s, inputs, q_src), _example(t, inputs, q)
    else:
        src = sample_example(s, k, derive_seed(seed, "source"))
        tgt = sample_example(t, k, derive_seed(seed, "target"))
    source_answer = s.answer(tgt.query) if s.accepts(tgt.query) else None
    return TaskPair(
        source=src,
        target=tgt,
        shared_inputs=shared_inputs,
        ambiguous=source_answer == tgt.answer,
        source_answer_for_query=source_answer,
    )
