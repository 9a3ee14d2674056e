"""What `--dtype auto` loads (SPEC 9): float32, except bfloat16 where both hold:

- the device computes bfloat16 fast: a CUDA device with bf16 support, or a CPU with AMX tiles
  or AVX512-BF16 (measured here: 2.3-3.1x the float32 speed of the headline sweeps);
- the agreement study (`icl_core.papers.cheng2026.dtype_agreement`; `icl-claims bench --agreement
N`) ran on these exact weights and found at least MIN_AGREEMENT of the (trial, condition) outcomes
identical to float32, a speedup, and no verdict change on its trials.

The rule was fixed before any study was run; `BF16_STUDIES` records each study's figures. A
model without a study (any model outside the table, or other weights under a zoo name) loads
in float32; an explicit `--dtype` always wins.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

MIN_AGREEMENT = 0.97


@dataclass(frozen=True)
class BF16Study:
    """One agreement study: `identical` of `compared` (trial, condition) outcomes equal at
    float32 and bfloat16, over `trials` draws of each headline sweep; `speedup` = float32 s /
    bfloat16 s on the same trials; `measured`: date, device and command."""

    weights_sha256: str
    trials: int
    identical: int
    compared: int
    speedup: float
    verdicts_unchanged: bool
    measured: str

    @property
    def qualifies(self) -> bool:
        return (self.identical >= MIN_AGREEMENT * self.compared and self.speedup > 1.0
                and self.verdicts_unchanged)  # fmt: skip


# Measured 2026-12-02 on the 2-core CPU (AVX512-BF16, no AMX tiles exposed), one torch thread,
# torch 2.13.0, transformers 5.24.0, seed 0, by `agreement_study(model, trials)` (the figures
# of `icl-claims bench --model M --agreement N`). Disagreements on gemma3-270m are whole draws
# whose clean answers differ between the dtypes (every condition of such a draw counts as a
# disagreement); its 53 conditions with a transfer at either dtype were all identical.
_MEASURED = "2026-12-02, cpu, agreement_study(model, trials), seed 0"
BF16_STUDIES: dict[str, BF16Study] = {
    "smollm2-135m": BF16Study(
        "d99538b711f0fa205cc9b156de7cba53e7a3e0b8eb9d994764cb4079d2e48b17",
        trials=10, identical=3886, compared=3900, speedup=2.48, verdicts_unchanged=True,
        measured=_MEASURED,
    ),
    "gemma3-270m": BF16Study(  # 93.0% identical: does not qualify, stays float32
        "9a38d10a677a1b8a4a33c2b225370249a3d8b16b57ceab323038ab56d40139d2",
        trials=10, identical=2176, compared=2340, speedup=2.34, verdicts_unchanged=True,
        measured=_MEASURED,
    ),
    "qwen2.5-coder-0.5b": BF16Study(
        "72581ad6b084b6ab720611f9e131b7fef9df50e48b0dbd454db5de3e975f919b",
        trials=8, identical=2493, compared=2496, speedup=3.09, verdicts_unchanged=True,
        measured=_MEASURED,
    ),
}  # fmt: skip


def bf16_is_fast(device: torch.device) -> bool:
    """Whether `device` has bfloat16 arithmetic units (see module docstring)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        probes = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
        return any(getattr(torch.cpu, name, lambda: False)() for name in probes)
    return False


def auto_dtype(name: str, weights_sha256: str, device: torch.device) -> torch.dtype:
    """`--dtype auto` for the model `name` with these weights on `device`."""
    study = BF16_STUDIES.get(name)
    studied = study is not None and study.weights_sha256 == weights_sha256 and study.qualifies
    return torch.bfloat16 if studied and bf16_is_fast(device) else torch.float32


def expected_speedup(name: str, device: torch.device) -> float:
    """The study's bfloat16 speedup of `name` if `--dtype auto` would likely pick bfloat16 on
    `device` (weights not checked: a cost estimate for scheduling only), else 1.0."""
    study = BF16_STUDIES.get(name)
    return study.speedup if study and study.qualifies and bf16_is_fast(device) else 1.0
