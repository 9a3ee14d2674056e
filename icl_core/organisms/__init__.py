"""Model organisms (issue 18): tiny models trained here on the suite's own tasks and prompts with
a planted mechanism, so that each claim test can be seen to fail where its claim is false.

`ORGANISMS`: registry name -> training config. The trained folders ship inside the package
(`icl_core.models.acquire.shipped_dir`); `icl-claims organisms build` retrains them
(`build.build_organisms`).
"""

from __future__ import annotations

from icl_core.organisms.training_data import TrainingConfig

ORGANISMS: dict[str, TrainingConfig] = {
    "organism-distributed": TrainingConfig(
        mechanism="distributed", attention_penalty=1.0, read_layer=3, interchange_share=0.5
    ),
    "organism-localized": TrainingConfig(
        mechanism="localized",
        attention_penalty=3.0,
        read_layer=3,
        query_layer=5,
        interchange_share=0.5,
        steps=800,  # at 600 its slot patch transferred 15/20 at best; at 700 its attention
        # to the demos was 0.023 (tests/integration/test_organisms.py asks <= 0.02)
    ),
}
# The verdicts each organism is built to produce (issue 18, fixed before it was trained): the
# controls tier (`tests/integration/test_organisms.py::test_planted_verdicts`) asserts them.
PLANTED: dict[str, dict[str, str]] = {
    "organism-distributed": {"C1": "holds", "C2": "holds"},
    "organism-localized": {"C1": "refuted"},
}
FIGURES_FILE = "organism.json"  # training config, figures and mechanism checks of a folder
