"""ICL tasks (SPEC 5.1): definitions, word data, sampling, diagnostics, and the paper's own data.

Rigorous protocol: :func:`get_task`, :func:`sample_example`, :func:`sample_pair` (inputs sampled
per prompt from disjoint demo/query pools, strict scoring). Paper protocol: :func:`paper_task`,
:func:`paper_score`, :func:`paper_outcome` (the release's fixed data and lenient scorers, flaws
reproduced on purpose).
"""

from icl_core.tasks.diagnostics import (
    PairReport,
    ambiguous_queries,
    degenerate_tasks,
    is_degenerate,
    pair_report,
    shared_pools,
)
from icl_core.tasks.paper import (
    PaperTask,
    paper_attribution,
    paper_example,
    paper_task,
    paper_task_names,
)
from icl_core.tasks.paper_scoring import PAPER_OUTCOMES, VERDICTS, paper_outcome, paper_score
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
    "PAPER_OUTCOMES",
    "PAPER_TASKS",
    "REGIMES",
    "VERDICTS",
    "ICLExample",
    "PairReport",
    "PaperTask",
    "Task",
    "TaskPair",
    "ambiguous_queries",
    "degenerate_tasks",
    "derive_seed",
    "draw_groups",
    "get_task",
    "is_degenerate",
    "pair_report",
    "paper_attribution",
    "paper_example",
    "paper_outcome",
    "paper_score",
    "paper_task",
    "paper_task_names",
    "resolve_task",
    "sample_draw",
    "sample_example",
    "sample_pair",
    "shared_input_capacity",
    "shared_pools",
    "task_names",
]
