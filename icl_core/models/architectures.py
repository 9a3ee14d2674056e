"""One table of the supported causal-LM architectures (pyvene-style): `config.model_type` ->
where its decoder blocks live, what a block returns, and its family.

The config alone decides support (`architecture_of`), before any weights are read; the engine
and the interventions find the blocks only through `blocks_of`. A family groups architectures
for C4 ("across families"); an architecture never falls into a catch-all family.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from icl_core.errors import ModelLoadError


@dataclass(frozen=True)
class Architecture:
    """`blocks`: attribute path from the *ForCausalLM module to the ModuleList of decoder
    blocks; a block returns the residual stream [B, T, H], or (`tuple_output`) a tuple whose
    first element it is (the second, attention weights, unused)."""

    model_type: str
    blocks: str
    family: str
    tuple_output: bool = False


_ROWS = (
    Architecture("llama", "model.layers", "llama"),
    Architecture("mistral", "model.layers", "mistral"),
    Architecture("qwen2", "model.layers", "qwen"),
    Architecture("qwen3", "model.layers", "qwen"),
    Architecture("gemma", "model.layers", "gemma"),
    Architecture("gemma2", "model.layers", "gemma"),
    Architecture("gemma3_text", "model.layers", "gemma"),
    Architecture("phi", "model.layers", "phi"),
    Architecture("phi3", "model.layers", "phi"),
    Architecture("olmo", "model.layers", "olmo"),
    Architecture("olmo2", "model.layers", "olmo"),
    Architecture("stablelm", "model.layers", "stablelm"),
    Architecture("gpt2", "transformer.h", "gpt2"),
    Architecture("gptj", "transformer.h", "gptj"),
    Architecture("gpt_neox", "gpt_neox.layers", "gpt_neox"),
    Architecture("falcon", "transformer.h", "falcon", tuple_output=True),
    Architecture("bloom", "transformer.h", "bloom", tuple_output=True),
)
ARCHITECTURES: dict[str, Architecture] = {a.model_type: a for a in _ROWS}


def architecture_of(model_type: str) -> Architecture:
    """The table's row for a config's `model_type`; an unsupported one is a ModelLoadError
    naming it and every supported type."""
    if model_type not in ARCHITECTURES:
        raise ModelLoadError(
            f"unsupported architecture {model_type!r}: this suite patches decoder-only causal "
            f"LMs of the model types {', '.join(sorted(ARCHITECTURES))}"
        )
    return ARCHITECTURES[model_type]


def blocks_of(model: torch.nn.Module) -> torch.nn.ModuleList:
    """The decoder blocks of a loaded model of a supported architecture."""
    arch = architecture_of(model.config.model_type)
    obj: object = model
    for name in arch.blocks.split("."):
        obj = getattr(obj, name, None)
    if not isinstance(obj, torch.nn.ModuleList):
        raise ModelLoadError(f"{type(model).__name__} has no `{arch.blocks}` block list "
                             f"(model type {arch.model_type!r})")  # fmt: skip
    return obj
