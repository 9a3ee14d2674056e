"""The paper's own protocol (SPEC 6, protocol "paper"), flaws reproduced on purpose: the
release's fixed task data (`data`) and lenient scorers (`scoring`), its line-counting positions
(`positions`), its ingredients (`ingredients`), patching and tracing (`patching`, `tracing`),
how the suite runs them (`runs`), and its example source for the clean-state experiments
(`sources`)."""

from icl_core.papers.cheng2026.protocol.data import (
    PaperTask,
    paper_attribution,
    paper_example,
    paper_pairs,
    paper_task,
    paper_task_names,
)
from icl_core.papers.cheng2026.protocol.scoring import (
    PAPER_OUTCOMES,
    VERDICTS,
    paper_outcome,
    paper_score,
)

__all__ = [
    "PAPER_OUTCOMES",
    "VERDICTS",
    "PaperTask",
    "paper_attribution",
    "paper_example",
    "paper_pairs",
    "paper_outcome",
    "paper_score",
    "paper_task",
    "paper_task_names",
]
