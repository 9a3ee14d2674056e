"""Weights that are not what they claim: cheap checks every load runs before any experiment.

- A GGUF file: its header parses and every tensor's data lies inside the file, so a truncated
  or damaged file is refused before transformers reads it (`check_gguf`).
- The loaded model (`check_loaded`): every parameter is finite; no weight matrix holds a value
  more than OUTLIER_BOUND times its 90th-percentile magnitude (damaged quantisation scales in a
  stretch of a tensor); the residual stream (every block's output) of a fixed short prompt is
  finite and below RESIDUAL_BOUND. This catches damage that still parses and inflates values
  (flipped exponent bits in tensor data), not a subtle change of a few values: for that,
  compare the SHA-256 that `models check` prints with the publisher's.
A failure raises ModelLoadError("weights look corrupted: ...; SHA-256 of the weights: ...") (of the
GGUF file; of a folder, the digest over its safetensors files, each listed by `models check`).
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from icl_core.errors import ModelLoadError

# Healthy zoo models in float32 on PROBE_PROMPT reach max |residual| 2.5e4 (smollm2-135m), 1.0e5
# (gemma3-270m, massive activations) and 1.5e3 (qwen2.5-coder-0.5b); a GGUF damaged in its
# tensor data reached 1.2e13. The bound leaves four orders of magnitude of headroom.
RESIDUAL_BOUND = 1e9
# max |w| / 90th percentile of |w| per weight matrix (>= 2 dims), on healthy zoo weights: at most
# 31 (smollm2-135m), 28 (gemma3-270m), 302 (qwen2.5-coder-0.5b, outlier features), with the
# _SAMPLE estimate (32, 28, 305 from 200k samples); the bound is about 30x the largest. A Q4_1
# GGUF with one exponent bit flipped in every byte of 4 KiB of a tensor's data: 1.5e5.
OUTLIER_BOUND = 1e4
_SAMPLE = 16_384  # magnitudes sampled per matrix for its percentile (fixed seed)
PROBE_PROMPT = "Input: apple\nOutput: APPLE\n\nInput: cloud\nOutput:"


def corrupted(problem: str, digest: str) -> ModelLoadError:
    return ModelLoadError(f"weights look corrupted: {problem}; SHA-256 of the weights: {digest}")


def check_gguf(path: Path) -> None:
    """ModelLoadError unless the GGUF header parses and every tensor's data lies in the file."""
    from gguf import GGUFReader

    from icl_core.models.acquire import sha256_file

    try:
        reader = GGUFReader(path)
    except Exception as exc:  # the reader raises ValueError, IndexError, ... on damage
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        problem = f"{path.name} is not a readable GGUF file ({first})"
        raise corrupted(problem, sha256_file(path)) from None
    size = path.stat().st_size
    for t in reader.tensors:
        if t.data_offset + t.n_bytes > size:
            raise corrupted(
                f"{path.name} is truncated: tensor {t.name} ends at byte "
                f"{t.data_offset + t.n_bytes}, the file has {size}",
                sha256_file(path),
            )


def _outlier_ratio(p: torch.Tensor, largest: float) -> float:
    """`largest` (max |p|) / 90th percentile of |p| (over a fixed-seed sample); 0 for a
    mostly-zero tensor."""
    flat = p.detach().flatten()
    g = torch.Generator().manual_seed(0)
    k = min(flat.numel(), _SAMPLE)
    idx = torch.randint(0, flat.numel(), (k,), generator=g)
    sample = flat[idx.to(flat.device)].float().abs()
    q90 = sample.kthvalue(max(1, int(0.9 * k))).values.item()
    return largest / q90 if q90 > 0 else 0.0


@torch.inference_mode()
def check_loaded(model: torch.nn.Module, tokenizer, digest: str) -> None:
    """ModelLoadError unless every parameter is finite, no weight matrix exceeds OUTLIER_BOUND
    (`_outlier_ratio`), and every block's output on PROBE_PROMPT is finite with |value| <
    RESIDUAL_BOUND. Cost on one CPU thread: 0.4 s (smollm2-135m), 1.3 s (qwen2.5-coder-0.5b)."""
    from icl_core.interventions import capture_residual  # imports the models package

    for name, p in model.named_parameters():
        low, high = (v.item() for v in torch.aminmax(p.detach().flatten()))  # nan propagates
        if not (math.isfinite(low) and math.isfinite(high)):
            raise corrupted(f"parameter {name} holds non-finite values", digest)
        ratio = _outlier_ratio(p, max(-low, high)) if p.ndim >= 2 else 0.0
        if ratio > OUTLIER_BOUND:
            raise corrupted(
                f"parameter {name} holds a value {ratio:.3g} times its 90th-percentile "
                f"magnitude, beyond the sane bound {OUTLIER_BOUND:.0e}",
                digest,
            )
    device = next(model.parameters()).device
    ids = tokenizer(PROBE_PROMPT, return_tensors="pt").input_ids.to(device)
    with capture_residual(model) as states:
        model(ids)
    for layer, h in sorted(states.items()):
        worst = h.float().abs().max().item()
        if not worst < RESIDUAL_BOUND:  # also catches nan
            dtype = str(h.dtype).removeprefix("torch.")
            hint = " (or a dtype too narrow for this model)" if dtype == "float16" else ""
            raise corrupted(
                f"block {layer}'s output on a fixed short prompt reaches {worst:.3g} in "
                f"{dtype}{hint}, beyond the sane bound {RESIDUAL_BOUND:.0e}",
                digest,
            )
