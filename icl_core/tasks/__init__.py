"""ICL tasks (SPEC 5.1): definitions, word data, sampling, diagnostics.

Rigorous protocol: :func:`get_task`, :func:`sample_example`, :func:`sample_pair` (inputs sampled
per prompt from disjoint demo/query pools, strict scoring). A paper's own task data and scorers
live in its folder (`icl_core.papers.cheng2026.protocol`).
"""

from icl_core.tasks.diagnostics import (
    PairReport,
    ambiguous_queries,
    degenerate_tasks,
    is_degenerate,
    pair_report,
    shared_pools,
)
from icl_core.tasks.registry import (
    ABLATION_TASKS,
    PAPER_TASKS,
    get_task,
    resolve_task,
    task_names,
)
from icl_core.tasks.sampling import (
    ICLExample,
    TaskPair,
    derive_seed,
    draw_groups,
    sample_draw,
    sample_example,
    sample_pair,
    shared_input_capacity,
)
from icl_core.tasks.task import REGIMES, Task

__all__ = [
    "ABLATION_TASKS",
    "PAPER_TASKS",
    "REGIMES",
    "ICLExample",
    "PairReport",
    "Task",
    "TaskPair",
    "ambiguous_queries",
    "degenerate_tasks",
    "derive_seed",
    "draw_groups",
    "get_task",
    "is_degenerate",
    "pair_report",
    "resolve_task",
    "sample_draw",
    "sample_example",
    "sample_pair",
    "shared_input_capacity",
    "shared_pools",
    "task_names",
]
