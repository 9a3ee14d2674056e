"""Sampling of ICL prompts' contents: one task's example, or a (source, target) pair.

Contract: every function is a pure function of its arguments; the same seed gives the same result
bit for bit (``random.Random(seed)`` over sorted pools). Demo inputs of one example are distinct
and come from the demo pool; the query comes from the query pool, so it never appears among the
demos. The diagnostics of :mod:`icl_core.tasks.diagnostics` are re-exported here.
"""

from __future__ import annotations

import hashlib
import itertools
import random
from collections.abc import Sequence
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
    "draw_groups",
    "is_degenerate",
    "pair_report",
    "sample_draw",
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
    return _query_avoiding(s, q, pool, taken, rng, f"{s.name!r} -> {t.name!r}",
                           f"both answers to {q!r}; use distinct_queries=False")  # fmt: skip


def _query_avoiding(s: Task, q: str, pool: tuple[str, ...], taken: set[str], rng: random.Random,
                    who: str, whose: str) -> str:  # fmt: skip
    """A query of `pool` other than `q` whose `s` answer is not in `taken`, preferably of q's
    length band; InvalidChoiceError naming `who` and `whose` answers it must avoid."""
    options = [x for x in pool if x != q and s.answer(x) not in taken]
    if not options:
        raise InvalidChoiceError(
            f"no source query for {who} other than {q!r} whose answer differs from {whose}"
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


def _common_pools(tasks: Sequence[Task]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    demo = set.intersection(*(set(t.demo_pool) for t in tasks))
    query = set.intersection(*(set(t.query_pool) for t in tasks))
    return tuple(sorted(demo)), tuple(sorted(query))


def draw_groups(tasks: Sequence[Task | str], k: int = 5) -> tuple[tuple[str, ...], ...]:
    """`tasks` partitioned into draw groups. Taking tasks from the smallest demo pools up, a
    task joins the group with the largest pools (those of its first, smallest task, holding at
    least k demo inputs and a query) in which it shares exactly those pools with every member
    (`shared_pools`); otherwise it starts a group. One draw from a group's pools
    (`sample_draw`) is thus distributed, for each pair of the group, as `sample_pair` draws
    that pair's demo inputs and target query. Groups and members come in the order of `tasks`."""
    given = [resolve_task(t) for t in tasks]
    order = sorted(range(len(given)), key=lambda i: (len(given[i].demo_pool), i))
    groups: list[list[int]] = []
    for i in order:
        for group in sorted(groups, key=lambda g: -len(given[g[0]].demo_pool)):
            pools = _common_pools([given[group[0]]])
            if (
                len(pools[0]) >= k
                and pools[1]
                and all(shared_pools(given[j], given[i]) == pools for j in group)
            ):
                group.append(i)
                break
        else:
            groups.append([i])
    return tuple(tuple(given[j].name for j in sorted(g)) for g in sorted(groups, key=min))


def sample_draw(
    tasks: Sequence[Task | str], k: int = 5, seed: int = 0
) -> dict[tuple[str, str], TaskPair]:
    """One draw for every ordered pair of distinct `tasks` (a draw group, `draw_groups`): k
    distinct demo inputs and a target query from the group's common pools, and per source task
    one source query other than the target's, whose source answer differs from every group
    task's answer to the target query (preferably of the same length band, as `sample_pair`'s):
    each task's target prompt and source prompt are then shared by all its pairs. Raises
    InvalidChoiceError when the pools cannot supply them."""
    group = [resolve_task(t) for t in tasks]
    demo, query = _common_pools(group)
    if len(group) < 2 or k < 1 or len(demo) < k or not query:
        raise InvalidChoiceError(
            f"a draw for {[t.name for t in group]}: {len(demo)} common demo inputs and "
            f"{len(query)} common queries, for k={k} (needs >= 2 tasks, k >= 1)"
        )
    rng = random.Random(seed)
    inputs = rng.sample(demo, k)
    q = rng.choice(query)
    taken = {t.answer(q) for t in group}
    every = f"every answer to {q!r} in {[t.name for t in group]}"
    source_query = {s.name: _query_avoiding(s, q, query, taken, rng, repr(s.name), every)
                    for s in group}  # fmt: skip
    pairs = {}
    for s, t in itertools.permutations(group, 2):
        src, tgt = _example(s, inputs, source_query[s.name]), _example(t, inputs, q)
        answer = s.answer(q)
        pairs[(s.name, t.name)] = TaskPair(src, tgt, True, answer == tgt.answer, answer)
    return pairs
