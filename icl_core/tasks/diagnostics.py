"""Detection of degenerate tasks and ambiguous task pairs (SPEC 5.1).

A task is *degenerate* on a set of inputs when its answer is the same for all of them (e.g. the
paper's ``length`` on five-letter words always answers "5"). A query is *ambiguous* for a
(source, target) pair when both tasks accept it and give the same answer: such a trial cannot tell
transfer from preserve and must be excluded and counted by the caller.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from icl_core.errors import InvalidChoiceError
from icl_core.tasks.registry import resolve_task, task_names
from icl_core.tasks.task import Task


def shared_pools(source: Task | str, target: Task | str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(demo inputs, query inputs) both tasks accept: the intersections of their pools, sorted."""
    s, t = resolve_task(source), resolve_task(target)
    demo = tuple(sorted(set(s.demo_pool) & set(t.demo_pool)))
    query = tuple(sorted(set(s.query_pool) & set(t.query_pool)))
    return demo, query


def is_degenerate(task: Task | str, inputs: Iterable[str]) -> bool:
    """Whether ``task``'s answer is constant over ``inputs`` (at least two, all accepted)."""
    t = resolve_task(task)
    items = list(inputs)
    if len(items) < 2:
        raise InvalidChoiceError(
            f"is_degenerate needs at least 2 inputs, got {len(items)}: one input is always constant"
        )
    return len({t.answer(x) for x in items}) == 1


def degenerate_tasks(names: Iterable[Task | str] | None = None) -> dict[str, str]:
    """task name -> its constant answer, for the tasks (default: all registered) whose answer is
    constant over their query pool."""
    out = {}
    for name in task_names() if names is None else names:
        task = resolve_task(name)
        if _degenerate_on_pool(task):
            out[task.name] = task.answer(task.query_pool[0])
    return out


def ambiguous_queries(
    source: Task | str, target: Task | str, queries: Iterable[str] | None = None
) -> list[str]:
    """Queries (default: the target's query pool) both tasks accept and answer identically."""
    s, t = resolve_task(source), resolve_task(target)
    pool = t.query_pool if queries is None else queries
    return [q for q in pool if s.accepts(q) and t.accepts(q) and s.answer(q) == t.answer(q)]


@dataclass(frozen=True)
class PairReport:
    """What a (source, target) pair offers over the target's query pool.

    ``n_inapplicable``: queries the source task does not accept (no source answer, so a transfer
    cannot be scored there); ``ambiguous``: queries where both answers coincide (exclude them);
    ``shared_capacity``: sizes of the shared demo and query pools (see ``sample_pair``).
    """

    source: str
    target: str
    n_queries: int
    ambiguous: tuple[str, ...]
    n_inapplicable: int
    source_degenerate: bool
    target_degenerate: bool
    shared_capacity: tuple[int, int]

    @property
    def n_usable(self) -> int:
        """Queries that are neither inapplicable nor ambiguous."""
        return self.n_queries - self.n_inapplicable - len(self.ambiguous)


def pair_report(source: Task | str, target: Task | str) -> PairReport:
    """A :class:`PairReport` of ``source`` -> ``target`` over the target's query pool."""
    s, t = resolve_task(source), resolve_task(target)
    demo, query = shared_pools(s, t)
    return PairReport(
        source=s.name,
        target=t.name,
        n_queries=len(t.query_pool),
        ambiguous=tuple(ambiguous_queries(s, t)),
        n_inapplicable=sum(not s.accepts(q) for q in t.query_pool),
        source_degenerate=_degenerate_on_pool(s),
        target_degenerate=_degenerate_on_pool(t),
        shared_capacity=(len(demo), len(query)),
    )


def _degenerate_on_pool(task: Task) -> bool:
    return len({task.answer(x) for x in task.query_pool}) == 1
